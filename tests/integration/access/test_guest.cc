#include "tests/integration/access/test_guest.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>
#include <vector>

#include "reconciler/os/exec.h"
#include "reconciler/os/unique_fd.h"
#include "tests/support/test_env.h"

extern char** environ;

namespace banger::testing {
namespace {

std::string Must(Result<std::string> r) {
  if (!r.ok()) throw std::runtime_error(r.error().message());
  return std::move(r).value();
}

void MustOk(const Status& st) {
  if (!st.ok()) throw std::runtime_error(st.error().message());
}

std::string TrimNewline(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

sockaddr_in Loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

}  // namespace

int FreeLocalPort() {
  UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a = Loopback(0);
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    throw std::runtime_error("bind 127.0.0.1:0 failed");
  socklen_t len = sizeof a;
  getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

bool PortListening(int port) {
  UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a = Loopback(port);
  return connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
}

std::string GenerateEd25519PublicKey(const std::string& dir, const std::string& name) {
  const std::string key = JoinPath(dir, name);
  auto r = RunChecked({.argv = {"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", key}});
  if (!r.ok()) throw std::runtime_error(r.error().message());
  return TrimNewline(Must(ReadFile(key + ".pub")));
}

TestSshd::TestSshd(const std::string& dir, const std::string& authorized_key, bool with_sftp)
    : dir_(dir) {
  const std::string sshd = "/usr/sbin/sshd";
  if (::access(sshd.c_str(), X_OK) != 0) throw std::runtime_error("sshd not installed (openssh-server)");
  // sshd refuses to start without its privilege separation directory, which
  // the distribution's service unit normally creates.
  MustOk(MakeDirs("/run/sshd", 0755));
  host_key_line_ = GenerateEd25519PublicKey(dir, "host_key");
  MustOk(AtomicWriteFile(JoinPath(dir, "authorized_keys"), authorized_key + "\n", 0600));
  port_ = FreeLocalPort();
  std::string config =
      "Port " + std::to_string(port_) + "\n" +
      "ListenAddress 127.0.0.1\n"
      "HostKey " + JoinPath(dir, "host_key") + "\n" +
      "AuthorizedKeysFile " + JoinPath(dir, "authorized_keys") + "\n" +
      "StrictModes no\n"
      "UsePAM no\n"
      "PidFile none\n"
      "PermitRootLogin prohibit-password\n"
      "PasswordAuthentication no\n"
      "KbdInteractiveAuthentication no\n"
      "LogLevel VERBOSE\n";
  if (with_sftp) config += "Subsystem sftp /usr/lib/openssh/sftp-server\n";
  const std::string config_path = JoinPath(dir, "sshd_config");
  MustOk(AtomicWriteFile(config_path, config, 0600));

  const std::string log_path = JoinPath(dir, "sshd.log");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  // -D: stay in the foreground so the PID is sshd's; -e: log to stderr.
  std::vector<std::string> argv = {sshd, "-D", "-e", "-f", config_path};
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  started_at_ = std::chrono::steady_clock::now();
  int rc = posix_spawn(&pid_, sshd.c_str(), &actions, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("spawn sshd failed");
}

TestSshd::~TestSshd() { Stop(); }

bool TestSshd::Stop() {
  if (pid_ <= 0) return true;
  kill(pid_, SIGTERM);
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  const pid_t old = pid_;
  pid_ = -1;
  // Reaped and no longer signalable: the PID no longer names our sshd.
  return r == old && kill(old, 0) != 0 && errno == ESRCH;
}

std::string TestSshd::log() const { return ReadFile(JoinPath(dir_, "sshd.log")).value_or(""); }

GuestFixture::GuestFixture(bool with_sftp) : scratch(ScratchDir("banger-access-")) {
  config_dir = JoinPath(scratch.path(), "config");
  guest_root = JoinPath(scratch.path(), "guest-root");
  home = JoinPath(scratch.path(), "home");
  const std::string sshd_dir = JoinPath(scratch.path(), "sshd");
  for (const auto& d : {guest_root, home, sshd_dir}) {
    if (!MakeDirs(d, 0700).ok()) throw std::runtime_error("mkdir " + d);
  }
  access = std::make_unique<access::SshGuestAccess>(config_dir, SystemRunner(), access::SshAccessOptions{});
  auto key = access->AuthorizedKey();
  if (!key.ok()) throw std::runtime_error(key.error().message());
  sshd = std::make_unique<TestSshd>(sshd_dir, *key, with_sftp);
  access::SshAccessOptions options;
  options.port = sshd->port();
  options.guest_root = guest_root;
  options.home = home;
  access = std::make_unique<access::SshGuestAccess>(config_dir, SystemRunner(), options);
  auto st = access->PinHostKeys("web", kIp, {sshd->host_key_line()});
  if (!st.ok()) throw std::runtime_error(st.error().message());
}

GuestFixture::~GuestFixture() { StopSshd(); }

bool GuestFixture::StopSshd() {
  if (!sshd) return true;
  const int port = sshd->port();
  bool gone = sshd->Stop();
  sshd.reset();
  return gone && !PortListening(port);
}

}  // namespace banger::testing
