// The one error type of banger, returned as a value.
//
// Every fallible function returns Status (no value) or Result<T>. An Error
// carries a code (what kind of failure, for callers that branch on it), the
// errno when the failure came from the OS, and a message that names the
// object in quotes: "create tap 'bg-web0': Operation not permitted".
// Context is prepended on the way up with WithContext(). Library code never
// prints or exits; the CLI renders errors.
#pragma once

#include <cerrno>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace banger {

enum class Code {
  kInvalidArgument,     // bad input from the user or a peer
  kNotFound,            // a named object does not exist
  kAlreadyExists,       // a named object exists and must not
  kIo,                  // the OS failed an operation
  kCorruption,          // stored or received data is malformed
  kPermissionDenied,    // not allowed (by the OS or by policy)
  kBusy,                // held by someone else (a lock, an object in use)
  kTimeout,             // did not finish in time
  kStale,               // based on state that has moved on
  kFailedPrecondition,  // the system is not in a state that allows this
  kUnavailable,         // a service or tool is missing or unreachable
  kInternal,            // a bug in banger
  kCancelled,           // stopped on request (SIGINT/SIGTERM) before finishing
};

std::string_view CodeName(Code code);

class Error {
 public:
  Error(Code code, std::string message, int sys_errno = 0)
      : code_(code), sys_errno_(sys_errno), message_(std::move(message)) {}

  // "what: strerror(err)" with code derived from err.
  static Error FromErrno(std::string_view what, int err = errno);

  Code code() const { return code_; }
  int sys_errno() const { return sys_errno_; }
  const std::string& message() const { return message_; }

  // Prepends "context: " to the message.
  Error WithContext(std::string_view context) const&;
  Error WithContext(std::string_view context) &&;

 private:
  Code code_;
  int sys_errno_;
  std::string message_;
};

// Shorthands for the common codes.
Error InvalidArgument(std::string message);
Error NotFound(std::string message);
Error FailedPrecondition(std::string message);
Error Internal(std::string message);

// Quotes a name for messages: 'web'.
std::string Quote(std::string_view name);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}              // NOLINT(implicit)
  Result(Error error) : v_(std::move(error)) {}          // NOLINT(implicit)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

  T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_{Code::kInternal, ""};
  bool failed_ = false;
};

using Status = Result<void>;

inline Status OkStatus() { return Status(); }

}  // namespace banger

#define BANGER_CONCAT_INNER(a, b) a##b
#define BANGER_CONCAT(a, b) BANGER_CONCAT_INNER(a, b)

// Returns the error of a Status/Result expression from the enclosing function.
#define BANGER_RETURN_IF_ERROR(expr)                  \
  do {                                                \
    auto banger_status_ = (expr);                     \
    if (!banger_status_.ok())                         \
      return std::move(banger_status_).error();       \
  } while (0)

// Evaluates a Result expression; on error returns it, else assigns the value.
#define BANGER_ASSIGN_OR_RETURN(lhs, expr) \
  BANGER_ASSIGN_OR_RETURN_IMPL(BANGER_CONCAT(banger_result_, __LINE__), lhs, expr)
#define BANGER_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return std::move(tmp).error();      \
  lhs = std::move(tmp).value()
