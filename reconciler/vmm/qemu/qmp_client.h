// A client for QEMU's machine protocol (QMP) on a unix socket.
//
// Connect() reads the greeting and leaves capabilities negotiation done, so
// Execute() can be called at once. Asynchronous events interleaved with
// replies are skipped. Every call has a deadline.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "reconciler/base/error.h"
#include "reconciler/os/unique_fd.h"

namespace banger::vmm {

class QmpClient {
 public:
  static Result<QmpClient> Connect(const std::string& socket_path,
                                   std::chrono::milliseconds timeout);

  // Runs a command and returns its "return" value. A QMP error reply becomes
  // an Error carrying QEMU's description.
  Result<nlohmann::json> Execute(std::string_view command,
                                 const nlohmann::json& arguments = nullptr,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // Execute with `fd` passed alongside the request (SCM_RIGHTS), as
  // getfd expects.
  Result<nlohmann::json> ExecuteWithFd(std::string_view command, const nlohmann::json& arguments,
                                       int fd,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // query-status's "status" ("running", "paused", "shutdown", ...).
  Result<std::string> QueryStatus();

  const std::string& socket_path() const { return path_; }

 private:
  QmpClient(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  Result<nlohmann::json> Exchange(std::string_view command, const nlohmann::json& arguments,
                                  int fd, std::chrono::milliseconds timeout);
  Result<nlohmann::json> ReadMessage(std::chrono::steady_clock::time_point deadline);

  UniqueFd fd_;
  std::string path_;
  std::string buffer_;  // bytes received but not yet parsed
};

}  // namespace banger::vmm
