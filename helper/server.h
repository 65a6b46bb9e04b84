// The helper's listening socket and connections.
//
// SOCK_SEQPACKET unix socket; each accepted peer is checked with SO_PEERCRED
// and served only if it is the owner uid or root. Root is admitted because
// it could perform every operation itself: serving it grants nothing, and
// lets an administrator (or `sudo banger doctor`) use the owner's helper. A
// refused peer receives one error response and is disconnected. Each connection has its own thread and
// handles one request at a time, in order.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>

#include "helper/helper_service.h"
#include "reconciler/base/error.h"
#include "reconciler/os/unique_fd.h"

namespace banger::helper {

using LogFn = std::function<void(std::string_view line)>;

// Whether a peer uid may use a helper serving `owner`: the owner or root.
bool PeerAllowed(uid_t peer, uid_t owner);

class Server {
 public:
  // Binds `socket_path`, replacing a stale socket left by a dead helper but
  // refusing when a live helper answers on it or the path is not a socket.
  // The socket is mode 0666: SO_PEERCRED, not the file mode, is the access
  // control, so a refused peer gets an explanation instead of EACCES.
  // With `log_requests`, every request served is logged: its operation,
  // the peer's uid and pid, and "ok" or the error.
  static Result<Server> Listen(const std::string& socket_path, HelperService* service,
                               LogFn log, bool log_requests = false);

  Server(Server&&) = default;
  ~Server();

  // Serves until `stop_fd` becomes readable (a signalfd, an eventfd), then
  // closes every connection, joins their threads and removes the socket.
  Status Run(int stop_fd);

 private:
  Server(std::string path, UniqueFd listener, HelperService* service, LogFn log,
         bool log_requests)
      : path_(std::move(path)), listener_(std::move(listener)),
        service_(service), log_(std::move(log)), log_requests_(log_requests) {}

  std::string path_;
  UniqueFd listener_;
  HelperService* service_;
  LogFn log_;
  bool log_requests_ = false;
};

}  // namespace banger::helper
