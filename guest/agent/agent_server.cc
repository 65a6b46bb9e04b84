#include "guest/agent/agent_server.h"

#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "reconciler/os/fs.h"

namespace banger::agent {
namespace {

using Clock = std::chrono::steady_clock;

// How soon a port whose host side went away is opened again. Until a host
// connects, the port reads EOF at once (and polls as POLLHUP), so it is
// closed in between rather than polled in a loop. Opening it anew also
// tells QEMU again that the guest side is there: a port held open since
// early boot was seen to get no data from a host that connected later.
constexpr auto kPortRetry = std::chrono::milliseconds(100);
// How often a port the guest does not have (yet) is looked for.
constexpr auto kPortSearch = std::chrono::seconds(1);

Result<UniqueFd> ListenVsock() {
  UniqueFd fd(socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return Error::FromErrno("vsock socket");
  sockaddr_vm addr{};
  addr.svm_family = AF_VSOCK;
  addr.svm_cid = VMADDR_CID_ANY;
  addr.svm_port = kAgentVsockPort;
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return Error::FromErrno("bind vsock port " + std::to_string(kAgentVsockPort));
  if (listen(fd.get(), 16) != 0) return Error::FromErrno("listen on vsock");
  return fd;
}

Result<UniqueFd> ListenUnix(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) return InvalidArgument("socket path " + Quote(path) + " is too long");
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return Error::FromErrno("unix socket");
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  unlink(path.c_str());
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return Error::FromErrno("bind " + Quote(path));
  if (listen(fd.get(), 16) != 0) return Error::FromErrno("listen on " + Quote(path));
  return fd;
}

Result<UniqueFd> OpenPort(const std::string& dev) {
  UniqueFd fd(open(dev.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) return Error::FromErrno("open " + Quote(dev));
  return fd;
}

}  // namespace

std::string FindVirtioPort(const std::string& name, const std::string& sys_root) {
  const std::string dir = sys_root + "/sys/class/virtio-ports";
  auto entries = ListDir(dir);
  if (!entries.ok()) return "";
  for (const auto& e : *entries) {
    auto text = ReadFile(JoinPath(JoinPath(dir, e), "name"));
    if (!text.ok()) continue;
    std::string n = *text;
    while (!n.empty() && n.back() == '\n') n.pop_back();
    if (n == name) return sys_root + "/dev/" + e;
  }
  return "";
}

Status Serve(const ServerOptions& options) {
  signal(SIGPIPE, SIG_IGN);
  // SIGTERM/SIGINT end the agent through the loop, so the processes it
  // runs are killed (by their sessions' destructors) rather than orphaned.
  sigset_t handled;
  sigemptyset(&handled);
  for (int sig : {SIGCHLD, SIGTERM, SIGINT}) sigaddset(&handled, sig);
  if (sigprocmask(SIG_BLOCK, &handled, nullptr) != 0) return Error::FromErrno("block signals");
  UniqueFd sigfd(signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sigfd.valid()) return Error::FromErrno("signalfd");

  std::vector<UniqueFd> listeners;
  if (options.vsock) {
    // A guest without vsock (QEMU over virtio-serial) is fine.
    if (auto v = ListenVsock(); v.ok()) listeners.push_back(std::move(v).value());
  }
  if (!options.unix_socket.empty()) {
    BANGER_ASSIGN_OR_RETURN(UniqueFd u, ListenUnix(options.unix_socket));
    listeners.push_back(std::move(u));
  }
  if (listeners.empty() && options.port_name.empty()) {
    return FailedPrecondition("no transport: no vsock, no port name and no unix socket");
  }

  std::unique_ptr<Connection> port;
  std::string port_dev;
  std::vector<std::unique_ptr<Connection>> conns;
  Clock::time_point next_port_look = Clock::now();

  for (;;) {
    const auto now = Clock::now();
    if (!options.port_name.empty() && !port && now >= next_port_look) {
      if (port_dev.empty()) port_dev = FindVirtioPort(options.port_name, options.sys_root);
      next_port_look = now + kPortSearch;
      if (!port_dev.empty()) {
        // EBUSY while another process holds it open: look again later.
        if (auto fd = OpenPort(port_dev); fd.ok())
          port = std::make_unique<Connection>(std::move(fd).value(), true, options.agent);
        else
          port_dev.clear();
      }
    }

    std::vector<Watch> watches;
    bool reaped = false;
    bool stop = false;
    watches.push_back({sigfd.get(), POLLIN, [&](short) {
                         signalfd_siginfo info;
                         while (read(sigfd.get(), &info, sizeof info) == sizeof info) {
                           if (info.ssi_signo == SIGCHLD) reaped = true;
                           else stop = true;
                         }
                       }});
    for (auto& l : listeners) {
      int lfd = l.get();
      watches.push_back({lfd, POLLIN, [&, lfd](short) {
                           int c = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
                           if (c >= 0)
                             conns.push_back(std::make_unique<Connection>(UniqueFd(c), false, options.agent));
                         }});
    }
    if (port) port->AddWatches(watches);
    for (auto& c : conns) c->AddWatches(watches);

    int timeout = -1;
    if (!options.port_name.empty() && !port) {
      auto wait = std::chrono::ceil<std::chrono::milliseconds>(next_port_look - Clock::now());
      timeout = static_cast<int>(std::max<int64_t>(0, wait.count()));
    }
    std::vector<pollfd> fds;
    for (const auto& w : watches) fds.push_back({w.fd, w.events, 0});
    int n = poll(fds.data(), fds.size(), timeout);
    if (n < 0 && errno != EINTR) return Error::FromErrno("poll");
    for (size_t i = 0; n > 0 && i < fds.size(); ++i) {
      if (fds[i].revents != 0) watches[i].handler(fds[i].revents);
    }
    if (stop) return OkStatus();
    if (reaped) {
      int status;
      pid_t pid;
      while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (port && port->OnChildExit(pid, status)) continue;
        for (auto& c : conns)
          if (c->OnChildExit(pid, status)) break;
      }
    }
    if (port && port->closed()) {
      port.reset();
      next_port_look = Clock::now() + kPortRetry;
    }
    std::erase_if(conns, [](const auto& c) { return c->closed(); });
  }
}

}  // namespace banger::agent
