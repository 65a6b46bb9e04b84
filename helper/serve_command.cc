#include "helper/serve_command.h"

#include "reconciler/base/version.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>

#include "helper/helper_service.h"
#include "helper/protocol/names.h"
#include "helper/protocol/protocol.h"
#include "helper/jail.h"
#include "reconciler/os/fs.h"

namespace banger::helper {

namespace {

constexpr const char* kUsage =
    "usage: banger-helper serve --owner UID [--socket PATH] [--state-dir DIR] "
    "[--log-requests] [--jailer PATH --firecracker PATH [--jail-dir DIR]]";

Result<uid_t> ParseUid(const std::string& text) {
  uint32_t uid = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), uid);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      uid == UINT32_MAX) {
    return InvalidArgument("--owner: " + Quote(text) + " is not a uid");
  }
  return static_cast<uid_t>(uid);
}

}  // namespace

Result<ServeOptions> ParseServeOptions(const std::vector<std::string>& args) {
  ServeOptions options;
  bool have_owner = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (flag == "--log-requests") {
      options.log_requests = true;
      continue;
    }
    if (flag != "--owner" && flag != "--socket" && flag != "--state-dir" &&
        flag != "--jailer" && flag != "--firecracker" && flag != "--jail-dir") {
      return InvalidArgument("unknown argument " + Quote(flag) + "; " + kUsage);
    }
    if (i + 1 >= args.size()) return InvalidArgument(flag + " needs a value");
    const std::string& value = args[++i];
    if (flag == "--owner") {
      BANGER_ASSIGN_OR_RETURN(options.owner_uid, ParseUid(value));
      have_owner = true;
      continue;
    }
    if (auto st = ValidateCleanAbsolutePath(value); !st.ok()) {
      return st.error().WithContext(flag);
    }
    if (flag == "--socket") options.socket_path = value;
    if (flag == "--state-dir") options.state_dir = value;
    if (flag == "--jailer") options.jailer = value;
    if (flag == "--firecracker") options.firecracker = value;
    if (flag == "--jail-dir") options.jail_dir = value;
  }
  if (!have_owner) return InvalidArgument(std::string("--owner is required; ") + kUsage);
  if (options.jailer.empty() != options.firecracker.empty()) {
    return InvalidArgument("--jailer and --firecracker go together; " + std::string(kUsage));
  }
  return options;
}

Status Serve(const ServeOptions& options, int stop_fd, LogFn log) {
  if (geteuid() != 0) {
    return Error(Code::kPermissionDenied,
                 "banger-helper must run as root (it creates taps and NAT rules and "
                 "starts the Firecracker jailer); start it with sudo");
  }
  std::string socket_path = options.socket_path.empty()
                                ? DefaultSocketPath(options.owner_uid)
                                : options.socket_path;
  if (options.socket_path.empty()) {
    // The default directory is the helper's own: root-owned, 0755, so only
    // root can place or replace sockets in it.
    std::string dir = Dirname(socket_path);
    BANGER_RETURN_IF_ERROR(MakeDirs(dir, 0755));
    if (chown(dir.c_str(), 0, 0) != 0 || chmod(dir.c_str(), 0755) != 0) {
      return Error::FromErrno("prepare socket directory " + Quote(dir));
    }
  }

  HelperConfig config;
  config.owner_uid = options.owner_uid;
  config.state_dir = options.state_dir;
  if (!options.jailer.empty()) {
    config.jailer = JailerSetup{options.jailer, options.firecracker, options.jail_dir};
    BANGER_RETURN_IF_ERROR(CheckJailerSetup(*config.jailer));
  }
  BANGER_ASSIGN_OR_RETURN(std::unique_ptr<HelperService> service,
                          HelperService::Create(std::move(config)));
  BANGER_ASSIGN_OR_RETURN(Server server, Server::Listen(socket_path, service.get(), log,
                                                                options.log_requests));
  if (log) {
    log("serving uid " + std::to_string(options.owner_uid) + " on " + Quote(socket_path) +
        ", protocol " + std::to_string(kProtocolVersion));
  }
  return server.Run(stop_fd);
}

int ServeMain(const std::vector<std::string>& args) {
  auto log = [](std::string_view line) {
    std::fprintf(stderr, "banger-helper: %.*s\n", static_cast<int>(line.size()), line.data());
  };
  auto options = ParseServeOptions(args);
  if (!options.ok()) {
    log(options.error().message());
    return 2;
  }
  // Signals arrive on a signalfd: blocked here, before any thread exists, so
  // every thread inherits the mask and the serve loop sees them as input.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGHUP);
  if (pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr) != 0) {
    log("cannot block signals");
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);  // a child's closed stdin must not kill the helper
  UniqueFd stop(signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!stop.valid()) {
    log(Error::FromErrno("signalfd").message());
    return 1;
  }
  auto st = Serve(*options, stop.get(), log);
  if (!st.ok()) {
    log(st.error().message());
    return 1;
  }
  log("stopped");
  return 0;
}

int HelperMain(int argc, char** argv) {
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  if (!args.empty() && args[0] == "serve") {
    return ServeMain(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  if (!args.empty() && (args[0] == "version" || args[0] == "--version")) {
    std::printf("banger-helper %s, protocol %d\n", BuildString().c_str(), kProtocolVersion);
    return 0;
  }
  std::fprintf(stderr, "%s\n", kUsage);
  return 2;
}

}  // namespace banger::helper
