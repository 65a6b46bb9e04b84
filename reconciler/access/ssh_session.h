// An authenticated libssh2 session to one guest, and the RAII owners of the
// libssh2 objects. Connecting verifies the server's host key against the
// keys pinned at the guest's first boot before any authentication happens:
// a guest that cannot prove it is the VM banger booted gets nothing.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <libssh2.h>

#include "reconciler/access/known_hosts.h"
#include "reconciler/base/error.h"
#include "reconciler/os/unique_fd.h"

namespace banger::access {

struct SessionDeleter {
  void operator()(LIBSSH2_SESSION* s) const;  // disconnects, then frees
};
struct ChannelDeleter {
  void operator()(LIBSSH2_CHANNEL* c) const;
};
using SessionPtr = std::unique_ptr<LIBSSH2_SESSION, SessionDeleter>;
using ChannelPtr = std::unique_ptr<LIBSSH2_CHANNEL, ChannelDeleter>;

struct ConnectParams {
  std::string vm;                  // for messages
  std::string ip;
  int port = 22;
  std::vector<HostKey> pinned;     // the VM's pinned host keys
  std::string user = "root";
  std::string public_key_file;
  std::string private_key_file;
  // Bounds the TCP connect and every blocking libssh2 call afterwards.
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
};

class SshSession {
 public:
  // Connects, handshakes, checks the host key and authenticates.
  // Errors by code:
  //   kPermissionDenied   the host key does not match the pinned keys
  //   kFailedPrecondition no key pinned for the VM, or banger's key unusable
  //   kUnavailable        nothing accepted the connection, the handshake
  //                       failed, or sshd rejected banger's key (not
  //                       provisioned yet: the guest's login is not ready)
  //   kTimeout            a step did not finish within params.timeout
  static Result<SshSession> Connect(const ConnectParams& params);

  SshSession(SshSession&&) noexcept = default;
  SshSession& operator=(SshSession&&) noexcept = default;
  ~SshSession();

  LIBSSH2_SESSION* get() const { return session_.get(); }
  int fd() const { return fd_.get(); }
  // "vm 'web' (172.30.0.5)" for messages.
  const std::string& label() const { return label_; }
  std::chrono::milliseconds timeout() const { return timeout_; }

  // An Error for a failed libssh2 call: "<label>: <what>: <libssh2's text>",
  // code kTimeout for LIBSSH2_ERROR_TIMEOUT, else `code`.
  Error LastError(const std::string& what, Code code = Code::kIo) const;

 private:
  SshSession(UniqueFd fd, SessionPtr session, std::string label,
             std::chrono::milliseconds timeout)
      : fd_(std::move(fd)), session_(std::move(session)), label_(std::move(label)),
        timeout_(timeout) {}

  // Declared first so the session (which still writes a disconnect message
  // on the socket) is destroyed before the fd is closed.
  UniqueFd fd_;
  SessionPtr session_;
  std::string label_;
  std::chrono::milliseconds timeout_;
};

}  // namespace banger::access
