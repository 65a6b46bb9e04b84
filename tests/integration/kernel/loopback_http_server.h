// A minimal HTTP/1.1 server on 127.0.0.1 for download tests.
//
// Runs in a thread of the test process (no child process to leak) and can
// misbehave on purpose: any status code, redirects, and responses cut off
// before their announced Content-Length.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "reconciler/os/unique_fd.h"

namespace banger::testing {

class LoopbackHttpServer {
 public:
  struct Response {
    int status = 200;
    std::string body;
    std::string location;          // sent as Location: for redirects
    size_t send_only = std::string::npos;  // close after this many body bytes
  };

  // Binds an ephemeral port and starts serving; throws on failure.
  LoopbackHttpServer();
  ~LoopbackHttpServer();
  LoopbackHttpServer(const LoopbackHttpServer&) = delete;
  LoopbackHttpServer& operator=(const LoopbackHttpServer&) = delete;

  void Set(const std::string& path, Response response);
  std::string Url(const std::string& path) const;
  int Requests(const std::string& path) const;

 private:
  void Serve();
  void Handle(int fd);

  UniqueFd listen_fd_;
  UniqueFd stop_fd_;  // eventfd: wakes the accept loop for shutdown
  int port_ = 0;
  mutable std::mutex mu_;
  std::map<std::string, Response> routes_;
  std::map<std::string, int> hits_;
  std::thread thread_;
};

}  // namespace banger::testing
