// A raw connection to the helper for tests that send frames the engine's
// client never would (unknown operations, malformed JSON).
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <stdexcept>
#include <string>

#include "helper/protocol/wire.h"
#include "reconciler/os/unique_fd.h"

namespace banger::testing {

inline UniqueFd ConnectRaw(const std::string& path) {
  UniqueFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw std::runtime_error("connect " + path + ": " + std::strerror(errno));
  }
  timeval tv{10, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// Sends one frame (with `attach` as SCM_RIGHTS when >= 0) and returns the
// response frame's text.
inline std::string Exchange(int fd, const std::string& frame, int attach = -1) {
  auto sent = helper::SendFrame(fd, frame, attach);
  if (!sent.ok()) throw std::runtime_error(sent.error().message());
  auto got = helper::ReceiveFrame(fd);
  if (!got.ok()) throw std::runtime_error(got.error().message());
  if (got->eof) return "<eof>";
  return got->data;
}

}  // namespace banger::testing
