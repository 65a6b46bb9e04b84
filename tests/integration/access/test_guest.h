// The "guest" of the access tests: a real OpenSSH server on 127.0.0.1,
// started by the test as a child process with its own config, host key and
// authorized_keys in a scratch dir, and killed (and checked gone) when its
// owner goes away. Root logs in with a key; the guest's /root is stood in
// for by a temp dir, since this sshd runs on the host.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>

#include "reconciler/access/ssh_guest_access.h"
#include "reconciler/os/fs.h"

namespace banger::testing {

class TestSshd {
 public:
  // Starts sshd authorizing `authorized_key` (one line) for root, with the
  // SFTP subsystem unless `with_sftp` is false. Throws when it cannot start.
  TestSshd(const std::string& dir, const std::string& authorized_key, bool with_sftp = true);
  ~TestSshd();
  TestSshd(const TestSshd&) = delete;
  TestSshd& operator=(const TestSshd&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // "ssh-ed25519 AAAA... comment", as a guest prints it on its console.
  const std::string& host_key_line() const { return host_key_line_; }
  std::chrono::steady_clock::time_point started_at() const { return started_at_; }
  std::string log() const;

  // Sends SIGTERM, reaps, and returns whether the process is gone.
  bool Stop();

 private:
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::string host_key_line_;
  std::chrono::steady_clock::time_point started_at_;
};

// A TCP port on 127.0.0.1 nothing listens on right now.
int FreeLocalPort();

// Whether something accepts TCP connections on 127.0.0.1:port.
bool PortListening(int port);

// A fresh "ssh-ed25519 AAAA..." public key line (for mismatch tests).
std::string GenerateEd25519PublicKey(const std::string& dir, const std::string& name);

// One guest: a scratch dir holding banger's config dir, the stand-in for
// /root, a host home for `~`, and a TestSshd authorizing banger's managed
// key, with its host key pinned as the console would have reported it.
struct GuestFixture {
  explicit GuestFixture(bool with_sftp = true);
  ~GuestFixture();

  // Stops sshd and tells whether both the process and its port are gone.
  bool StopSshd();

  TempDir scratch;
  std::string config_dir;
  std::string guest_root;
  std::string home;
  std::unique_ptr<access::SshGuestAccess> access;
  std::unique_ptr<TestSshd> sshd;
  static constexpr const char* kIp = "127.0.0.1";
};

}  // namespace banger::testing
