#include "helper/protocol/wire.h"

#include <sys/socket.h>

#include <cstring>
#include <vector>

#include "helper/protocol/codec.h"

namespace banger::helper {

Status SendFrame(int sock, std::string_view frame, int fd) {
  if (frame.size() > kMaxFrameSize) {
    return Internal("frame of " + std::to_string(frame.size()) +
                    " bytes is larger than the protocol allows");
  }
  iovec iov{const_cast<char*>(frame.data()), frame.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  if (fd >= 0) {
    std::memset(control, 0, sizeof control);
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  }
  for (;;) {
    ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (n >= 0) return OkStatus();
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return Error(Code::kTimeout, "send frame: timed out", errno);
    }
    return Error::FromErrno("send frame");
  }
}

Result<ReceivedFrame> ReceiveFrame(int sock) {
  // One byte more than the limit so an oversized frame shows as MSG_TRUNC
  // even on kernels that do not report the full length.
  std::vector<char> buffer(kMaxFrameSize + 1);
  iovec iov{buffer.data(), buffer.size()};
  // Room for a few descriptors, so a peer that sends too many has them all
  // delivered here and closed rather than silently truncated.
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 8)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  for (;;) {
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n >= 0) break;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return Error(Code::kTimeout, "receive frame: timed out", errno);
    }
    return Error::FromErrno("receive frame");
  }

  ReceivedFrame frame;
  std::vector<UniqueFd> fds;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      fds.emplace_back(fd);
    }
  }
  if (msg.msg_flags & MSG_CTRUNC) {
    return Error(Code::kCorruption, "receive frame: descriptors were truncated");
  }
  if (fds.size() > 1) {
    return Error(Code::kCorruption, "receive frame: carries " +
                                        std::to_string(fds.size()) +
                                        " descriptors, at most one is allowed");
  }
  if (n == 0 && fds.empty()) {
    frame.eof = true;
    return frame;
  }
  if ((msg.msg_flags & MSG_TRUNC) || static_cast<size_t>(n) > kMaxFrameSize) {
    return Error(Code::kCorruption, "receive frame: larger than " +
                                        std::to_string(kMaxFrameSize) + " bytes");
  }
  frame.data.assign(buffer.data(), static_cast<size_t>(n));
  if (!fds.empty()) frame.fd = std::move(fds[0]);
  return frame;
}

}  // namespace banger::helper
