#include "reconciler/base/error.h"

#include <cstring>

namespace banger {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kInvalidArgument: return "invalid argument";
    case Code::kNotFound: return "not found";
    case Code::kAlreadyExists: return "already exists";
    case Code::kIo: return "I/O error";
    case Code::kCorruption: return "corruption";
    case Code::kPermissionDenied: return "permission denied";
    case Code::kBusy: return "busy";
    case Code::kTimeout: return "timeout";
    case Code::kStale: return "stale";
    case Code::kFailedPrecondition: return "failed precondition";
    case Code::kUnavailable: return "unavailable";
    case Code::kInternal: return "internal error";
    case Code::kCancelled: return "cancelled";
  }
  return "unknown";
}

static Code CodeForErrno(int err) {
  switch (err) {
    case ENOENT: case ENODEV: case ESRCH: case ENXIO: return Code::kNotFound;
    case EEXIST: return Code::kAlreadyExists;
    case EACCES: case EPERM: return Code::kPermissionDenied;
    case EBUSY: case EAGAIN: return Code::kBusy;
    case ETIMEDOUT: return Code::kTimeout;
    case EINVAL: case ENAMETOOLONG: return Code::kInvalidArgument;
    case ECONNREFUSED: case ENOTCONN: return Code::kUnavailable;
    default: return Code::kIo;
  }
}

Error Error::FromErrno(std::string_view what, int err) {
  std::string msg(what);
  msg += ": ";
  msg += std::strerror(err);
  return Error(CodeForErrno(err), std::move(msg), err);
}

Error Error::WithContext(std::string_view context) const& {
  Error copy = *this;
  return std::move(copy).WithContext(context);
}

Error Error::WithContext(std::string_view context) && {
  std::string msg(context);
  msg += ": ";
  msg += message_;
  message_ = std::move(msg);
  return std::move(*this);
}

Error InvalidArgument(std::string message) {
  return Error(Code::kInvalidArgument, std::move(message));
}
Error NotFound(std::string message) {
  return Error(Code::kNotFound, std::move(message));
}
Error FailedPrecondition(std::string message) {
  return Error(Code::kFailedPrecondition, std::move(message));
}
Error Internal(std::string message) {
  return Error(Code::kInternal, std::move(message));
}

std::string Quote(std::string_view name) {
  std::string out = "'";
  out += name;
  out += "'";
  return out;
}

}  // namespace banger
