#include "guest/agent/reidentify.h"

#include <fcntl.h>
#include <linux/random.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "guest/agent/guest_command.h"
#include "guest/agent/guest_info.h"
#include "reconciler/os/fs.h"

namespace banger::agent {
namespace {

constexpr std::chrono::seconds kToolTimeout{30};

// Mixes the host's seed into the kernel's input pool, credited, and makes
// the kernel rekey its generator from it now. A plain write to
// /dev/urandom mixes without a reseed: every clone of one snapshot would
// then draw the same bytes (machine-id, keys) until the next timed reseed.
Status ReseedKernelRng(const std::string& seed) {
  int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Error::FromErrno("open '/dev/urandom'");
  std::string buf(sizeof(struct rand_pool_info) + seed.size(), '\0');
  auto* info = reinterpret_cast<struct rand_pool_info*>(buf.data());
  info->entropy_count = static_cast<int>(seed.size() * 8);
  info->buf_size = static_cast<int>(seed.size());
  memcpy(info->buf, seed.data(), seed.size());
  Status st = OkStatus();
  if (ioctl(fd, RNDADDENTROPY, info) != 0) {
    st = Error::FromErrno("add the seed to the entropy pool (RNDADDENTROPY)");
  } else if (ioctl(fd, RNDRESEEDCRNG) != 0) {
    st = Error::FromErrno("reseed the kernel's generator (RNDRESEEDCRNG)");
  }
  close(fd);
  return st;
}

Result<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::FromErrno("open '/dev/urandom'");
  size_t at = 0;
  while (at < n) {
    ssize_t got = read(fd, out.data() + at, n - at);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      close(fd);
      return Error::FromErrno("read '/dev/urandom'");
    }
    at += static_cast<size_t>(got);
  }
  close(fd);
  return out;
}

bool IsSymlink(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

Status RemoveFile(const std::string& path) {
  if (unlink(path.c_str()) != 0 && errno != ENOENT) return Error::FromErrno("remove " + Quote(path));
  return OkStatus();
}

// Anything random the source VM left on disk that the next boot would use.
Status RenewIdentifiers(const std::string& root) {
  BANGER_ASSIGN_OR_RETURN(std::string raw, RandomBytes(16));
  static const char kHex[] = "0123456789abcdef";
  std::string id;
  for (unsigned char c : raw) {
    id += kHex[c >> 4];
    id += kHex[c & 15];
  }
  const std::string machine_id = root + "/etc/machine-id";
  if (PathExists(machine_id)) BANGER_RETURN_IF_ERROR(AtomicWriteFile(machine_id, id + "\n", 0444));
  const std::string seed_file = root + "/var/lib/systemd/random-seed";
  if (PathExists(seed_file)) {
    BANGER_ASSIGN_OR_RETURN(std::string seed, RandomBytes(512));
    BANGER_RETURN_IF_ERROR(AtomicWriteFile(seed_file, seed, 0600));
  }
  return OkStatus();
}

Status SetHostname(const std::string& name, const std::string& root) {
  if (sethostname(name.data(), name.size()) != 0) return Error::FromErrno("sethostname");
  BANGER_RETURN_IF_ERROR(AtomicWriteFile(root + "/etc/hostname", name + "\n"));
  const std::string hosts = root + "/etc/hosts";
  if (!PathExists(hosts)) return OkStatus();
  BANGER_ASSIGN_OR_RETURN(std::string text, ReadFile(hosts));
  std::istringstream in(text);
  std::string line, out;
  bool replaced = false;
  while (std::getline(in, line)) {
    if (line.rfind("127.0.1.1", 0) == 0 && line.size() > 9 && (line[9] == ' ' || line[9] == '\t')) {
      line = "127.0.1.1\t" + name;
      replaced = true;
    }
    out += line + "\n";
  }
  if (!replaced) out += "127.0.1.1\t" + name + "\n";
  return AtomicWriteFile(hosts, out);
}

// The NIC net-bootstrap.sh configured at boot: the first one backed by a
// device, any non-loopback one otherwise (names sorted).
Result<std::string> FindNic() {
  BANGER_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir("/sys/class/net"));
  std::string fallback;
  for (const auto& n : names) {
    if (n == "lo") continue;
    if (PathExists("/sys/class/net/" + n + "/device")) return n;
    if (fallback.empty()) fallback = n;
  }
  if (fallback.empty()) return Error(Code::kNotFound, "no network interface in /sys/class/net");
  return fallback;
}

Status Renumber(const Reidentify& r, const std::string& root) {
  BANGER_ASSIGN_OR_RETURN(std::string nic, FindNic());
  using Argv = std::vector<std::string>;
  // The MAC is changed while the link stays up where the driver allows it
  // (virtio-net with a control queue passes it to the device), else with
  // the link down for a moment.
  if (!RunGuestCommand({"ip", "link", "set", "dev", nic, "address", r.mac}, kToolTimeout).ok()) {
    for (const Argv& argv : {Argv{"ip", "link", "set", "dev", nic, "down"},
                             Argv{"ip", "link", "set", "dev", nic, "address", r.mac}})
      BANGER_RETURN_IF_ERROR(RunGuestCommand(argv, kToolTimeout));
  }
  for (const Argv& argv : {Argv{"ip", "addr", "flush", "dev", nic, "scope", "global"},
                           Argv{"ip", "addr", "add", r.address, "dev", nic},
                           Argv{"ip", "link", "set", "dev", nic, "up"}}) {
    BANGER_RETURN_IF_ERROR(RunGuestCommand(argv, kToolTimeout));
  }
  if (!r.gateway.empty()) {
    BANGER_RETURN_IF_ERROR(RunGuestCommand(
        {"ip", "route", "replace", "default", "via", r.gateway, "dev", nic}, kToolTimeout));
  }
  if (!r.dns.empty()) {
    const std::string resolv = root + "/etc/resolv.conf";
    // A dangling resolver symlink (no systemd-resolved) becomes a file.
    if (IsSymlink(resolv)) BANGER_RETURN_IF_ERROR(RemoveFile(resolv));
    BANGER_RETURN_IF_ERROR(
        AtomicWriteFile(resolv, "nameserver " + r.dns + "\nsearch vm\n"));
  }
  return OkStatus();
}

// The listening sshd: its pid file, as Debian's and most sshd builds write it.
pid_t SshdPid(const std::string& root) {
  for (const char* file : {"/run/sshd.pid", "/var/run/sshd.pid"}) {
    auto text = ReadFile(root + file);
    if (!text.ok()) continue;
    try {
      int pid = std::stoi(*text);
      if (pid > 1) return pid;
    } catch (...) {
    }
  }
  return 0;
}

// The source's host keys are replaced: by the pairs the host made, else by
// new ones of every default type made here; the running sshd is told to
// load them (SIGHUP: it re-executes itself, so for a moment nothing listens;
// the host's login check after the reply waits that out).
Status RenewHostKeys(const std::vector<HostKeyPair>& given, const std::string& root) {
  const std::string dir = root + "/etc/ssh";
  if (!IsDirectory(dir)) return OkStatus();  // no SSH server in this image
  BANGER_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dir));
  for (const auto& n : names) {
    if (n.rfind("ssh_host_", 0) == 0) BANGER_RETURN_IF_ERROR(RemoveFile(JoinPath(dir, n)));
  }
  if (given.empty()) {
    std::vector<std::string> argv = {"ssh-keygen", "-A"};
    if (!root.empty()) argv.insert(argv.end(), {"-f", root});
    BANGER_RETURN_IF_ERROR(RunGuestCommand(argv, kToolTimeout));
  }
  for (const HostKeyPair& k : given) {
    const std::string file = JoinPath(dir, "ssh_host_" + k.type + "_key");
    BANGER_RETURN_IF_ERROR(AtomicWriteFile(file, k.private_key, 0600));
    std::string pub = k.public_key;
    if (pub.back() != '\n') pub += '\n';
    BANGER_RETURN_IF_ERROR(AtomicWriteFile(file + ".pub", pub, 0644));
  }
  if (pid_t sshd = SshdPid(root); sshd > 0 && kill(sshd, SIGHUP) != 0 && errno != ESRCH)
    return Error::FromErrno("signal sshd (pid " + std::to_string(sshd) + ")");
  return OkStatus();
}

}  // namespace

Result<std::vector<std::string>> ReidentifyGuest(const Reidentify& r, const std::string& root) {
  auto step = [](const char* what, Status st) -> Status {
    if (st.ok()) return st;
    return std::move(st).error().WithContext(std::string("reidentify: ") + what);
  };
  BANGER_RETURN_IF_ERROR(step("reseed the RNG", ReseedKernelRng(r.seed)));
  BANGER_RETURN_IF_ERROR(step("renew machine-id", RenewIdentifiers(root)));
  // The keys first: sshd reloads them while the rest is done.
  BANGER_RETURN_IF_ERROR(step("renew SSH host keys", RenewHostKeys(r.host_keys, root)));
  BANGER_RETURN_IF_ERROR(step("set the hostname", SetHostname(r.hostname, root)));
  if (!r.address.empty()) BANGER_RETURN_IF_ERROR(step("renumber the NIC", Renumber(r, root)));
  return ReadHostKeys(root);
}

}  // namespace banger::agent
