#include "helper/server.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <list>
#include <memory>
#include <thread>

#include "helper/protocol/codec.h"
#include "helper/protocol/protocol.h"
#include "helper/protocol/wire.h"

namespace banger::helper {

namespace {

constexpr size_t kMaxConnections = 64;

Result<sockaddr_un> UnixAddress(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return InvalidArgument("socket path " + Quote(path) + " is too long");
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

// True when something accepts connections on `path`.
bool SomeoneListens(const sockaddr_un& addr) {
  UniqueFd probe(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!probe.valid()) return false;
  return connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
}

struct Connection {
  UniqueFd fd;
  ucred peer{};
  std::thread thread;
  std::atomic<bool> done{false};
};

// Reads and drops what a refused peer already sent (descriptors included:
// without room for them the kernel closes them). Closing a unix socket with
// unread data resets the peer, which would then see "connection reset"
// instead of the refusal waiting in its queue.
void DiscardPending(int fd) {
  char buf[4096];
  while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
  }
}

}  // namespace

bool PeerAllowed(uid_t peer, uid_t owner) { return peer == owner || peer == 0; }

Result<Server> Server::Listen(const std::string& socket_path, HelperService* service,
                              LogFn log, bool log_requests) {
  std::string what = "listen on " + Quote(socket_path);
  BANGER_ASSIGN_OR_RETURN(sockaddr_un addr, UnixAddress(socket_path));
  struct stat st {};
  if (lstat(socket_path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return Error(Code::kAlreadyExists, what + ": the path exists and is not a socket");
    }
    if (SomeoneListens(addr)) {
      return Error(Code::kBusy, what + ": a helper is already serving it");
    }
    if (unlink(socket_path.c_str()) != 0) return Error::FromErrno(what + ": remove stale socket");
  }
  UniqueFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return Error::FromErrno(what + ": socket");
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Error::FromErrno(what + ": bind");
  }
  if (chmod(socket_path.c_str(), 0666) != 0) {
    int err = errno;
    unlink(socket_path.c_str());
    return Error::FromErrno(what + ": chmod", err);
  }
  if (listen(fd.get(), 64) != 0) {
    int err = errno;
    unlink(socket_path.c_str());
    return Error::FromErrno(what + ": listen", err);
  }
  return Server(socket_path, std::move(fd), service, std::move(log), log_requests);
}

Server::~Server() {
  if (listener_.valid()) unlink(path_.c_str());
}

Status Server::Run(int stop_fd) {
  // Connection threads watch this to learn about shutdown.
  UniqueFd stopping(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stopping.valid()) return Error::FromErrno("serve: eventfd");
  std::list<std::unique_ptr<Connection>> connections;
  uid_t owner = service_->owner_uid();

  auto reap = [&](bool all) {
    for (auto it = connections.begin(); it != connections.end();) {
      if (all || (*it)->done) {
        (*it)->thread.join();
        it = connections.erase(it);
      } else {
        ++it;
      }
    }
  };

  auto serve = [this, &stopping](Connection* conn) {
    for (;;) {
      pollfd fds[2] = {{conn->fd.get(), POLLIN, 0}, {stopping.get(), POLLIN, 0}};
      if (poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (fds[1].revents) break;
      auto frame = ReceiveFrame(conn->fd.get());
      if (!frame.ok()) {
        // A malformed frame (oversized, several fds) is answered, then the
        // connection is dropped: its framing can no longer be trusted.
        (void)SendFrame(conn->fd.get(), EncodeErrorResponse(frame.error()));
        break;
      }
      if (frame->eof) break;
      Reply reply = service_->HandleFrame(frame->data, std::move(frame->fd));
      if (log_requests_ && log_) {
        log_("request " + (reply.op.empty() ? std::string("(undecodable)") : reply.op) +
             " from uid " + std::to_string(conn->peer.uid) + " pid " +
             std::to_string(conn->peer.pid) + ": " +
             (reply.failure.empty() ? std::string("ok") : "error: " + reply.failure));
      }
      if (!SendFrame(conn->fd.get(), reply.frame, reply.fd.get()).ok()) break;
    }
    // The peer sees the end now; the descriptor itself is closed when the
    // accept loop reaps this connection.
    ::shutdown(conn->fd.get(), SHUT_RDWR);
    conn->done = true;
  };

  for (;;) {
    pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {stop_fd, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno("serve: poll");
    }
    if (fds[1].revents) break;
    reap(false);
    int cfd = accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (cfd < 0) continue;  // EAGAIN after a peer gave up, EMFILE: keep serving
    UniqueFd client(cfd);
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) continue;
    // A stuck peer must not hold a helper thread in send forever.
    timeval tv{10, 0};
    setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (!PeerAllowed(cred.uid, owner)) {
      if (log_) {
        log_("refused peer uid " + std::to_string(cred.uid) + " pid " +
             std::to_string(cred.pid));
      }
      (void)SendFrame(cfd, EncodeErrorResponse(Error(
                               Code::kPermissionDenied,
                               "root helper: uid " + std::to_string(cred.uid) +
                                   " is not allowed; this helper serves uid " +
                                   std::to_string(owner) + " and root")));
      DiscardPending(cfd);
      continue;
    }
    if (connections.size() >= kMaxConnections) {
      (void)SendFrame(cfd, EncodeErrorResponse(Error(
                               Code::kBusy, "root helper: too many connections (" +
                                                std::to_string(kMaxConnections) + ")")));
      continue;
    }
    auto conn = std::make_unique<Connection>();
    conn->fd = std::move(client);
    conn->peer = cred;
    Connection* raw = conn.get();
    conn->thread = std::thread(serve, raw);
    connections.push_back(std::move(conn));
  }

  // Wake every connection thread: the eventfd for those waiting in poll,
  // shutdown() so a thread between poll and recv sees end of stream.
  uint64_t one = 1;
  ssize_t woke = write(stopping.get(), &one, sizeof one);
  (void)woke;
  for (auto& conn : connections) ::shutdown(conn->fd.get(), SHUT_RDWR);
  reap(true);
  unlink(path_.c_str());
  listener_.Reset();
  return OkStatus();
}

}  // namespace banger::helper
