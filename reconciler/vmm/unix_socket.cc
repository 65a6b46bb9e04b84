#include "reconciler/vmm/unix_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace banger::vmm {
namespace {

// Waits for `events` on fd until the deadline; false on timeout.
Result<bool> WaitFor(int fd, short events, Deadline deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    int r = poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Error::FromErrno("poll");
    if (r > 0) return true;
  }
}

}  // namespace

size_t MaxUnixSocketPath() { return sizeof(sockaddr_un{}.sun_path) - 1; }

Result<UniqueFd> ConnectUnixSocket(const std::string& path) {
  if (path.size() > MaxUnixSocketPath()) {
    return InvalidArgument("socket " + Quote(path) + ": path longer than " +
                           std::to_string(MaxUnixSocketPath()) + " bytes");
  }
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Error::FromErrno("socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  int rc;
  do {
    rc = connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return Error::FromErrno("connect " + Quote(path));
  return fd;
}

Status SendAll(int fd, std::string_view data, Deadline deadline) {
  while (!data.empty()) {
    BANGER_ASSIGN_OR_RETURN(bool ready, WaitFor(fd, POLLOUT, deadline));
    if (!ready) return Error(Code::kTimeout, "send: timed out");
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return Error::FromErrno("send");
    data.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

Status SendAllWithFd(int fd, std::string_view data, int pass_fd, Deadline deadline) {
  if (data.empty()) return InvalidArgument("send: a descriptor needs at least one byte");
  BANGER_ASSIGN_OR_RETURN(bool ready, WaitFor(fd, POLLOUT, deadline));
  if (!ready) return Error(Code::kTimeout, "send: timed out");
  iovec iov{const_cast<char*>(data.data()), 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &pass_fd, sizeof(int));
  ssize_t n;
  do {
    n = sendmsg(fd, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Error::FromErrno("send with descriptor");
  return SendAll(fd, data.substr(1), deadline);
}

Status ReceiveSome(int fd, std::string* buf, Deadline deadline) {
  for (;;) {
    BANGER_ASSIGN_OR_RETURN(bool ready, WaitFor(fd, POLLIN, deadline));
    if (!ready) return Error(Code::kTimeout, "receive: timed out");
    char chunk[8192];
    ssize_t n = recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return Error::FromErrno("receive");
    if (n == 0) return Error(Code::kUnavailable, "receive: connection closed by peer");
    buf->append(chunk, static_cast<size_t>(n));
    return OkStatus();
  }
}

}  // namespace banger::vmm
