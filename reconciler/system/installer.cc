#include "reconciler/system/installer.h"

#include <net/if.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>

#include "helper/state_store.h"
#include "reconciler/base/version.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/process.h"
#include "reconciler/system/running_vms.h"

namespace banger::system {
namespace {

constexpr auto kSystemctlTimeout = std::chrono::seconds(90);

Result<ExecResult> Systemctl(CommandRunner& runner, std::vector<std::string> args) {
  ExecRequest request;
  request.argv = {"systemctl"};
  request.argv.insert(request.argv.end(), args.begin(), args.end());
  request.timeout = kSystemctlTimeout;
  return RunChecked(runner, request);
}

// The same file, reached by another path (the binary already installed).
bool SameFile(const std::string& a, const std::string& b) {
  struct stat sa {}, sb {};
  return stat(a.c_str(), &sa) == 0 && stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

// Copies `from` to `to` (temp, fsync, rename): a running copy of `to` keeps
// its old inode, and a crash leaves the old binary or the new.
Status InstallBinary(const std::string& from, const std::string& to) {
  BANGER_ASSIGN_OR_RETURN(std::string data, ReadFile(from));
  BANGER_RETURN_IF_ERROR(MakeDirs(Dirname(to), 0755));
  BANGER_RETURN_IF_ERROR(AtomicWriteFile(to, data, 0755));
  if (chmod(to.c_str(), 0755) != 0) return Error::FromErrno("chmod " + Quote(to));
  return OkStatus();
}

// What the stopped helper made for the owner and a purge takes away: its
// taps and bridges (named in its record, so nothing else is touched) and
// banger's nftables table. Runs after the helper stopped, as root.
Status ReleaseNetwork(CommandRunner& runner, const std::string& helper_state_dir, uid_t owner,
                      std::vector<std::string>& removed) {
  const std::string path = JoinPath(helper_state_dir, std::to_string(owner) + ".json");
  if (!PathExists(path)) return OkStatus();
  BANGER_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto state = helper::DecodeState(text);
  if (!state.ok()) return state.error().WithContext(Quote(path));
  std::vector<std::string> links;
  for (const helper::TapRecord& tap : state->taps) links.push_back(tap.name);
  for (const helper::BridgeRecord& bridge : state->bridges) links.push_back(bridge.name);
  for (const std::string& link : links) {
    if (if_nametoindex(link.c_str()) == 0) continue;
    BANGER_RETURN_IF_ERROR(RunChecked(runner, {.argv = {"ip", "link", "delete", link}}));
    removed.push_back("link " + link);
  }
  BANGER_ASSIGN_OR_RETURN(ExecResult tables, RunChecked(runner, {.argv = {"nft", "list", "tables"}}));
  if (tables.out.find("table ip banger\n") != std::string::npos) {
    BANGER_RETURN_IF_ERROR(RunChecked(runner, {.argv = {"nft", "delete", "table", "ip", "banger"}}));
    removed.push_back("nftables table ip banger");
  }
  return OkStatus();
}

void Remember(std::vector<std::string>& list, const std::string& path) {
  if (std::find(list.begin(), list.end(), path) == list.end()) list.push_back(path);
}

}  // namespace

Status CheckSystemd(const SystemPaths& paths) {
  if (IsDirectory(paths.systemd_marker)) return OkStatus();
  return FailedPrecondition("systemd is not managing this system (no " +
                            Quote(paths.systemd_marker) +
                            "): run the helper yourself with `sudo banger helper serve --owner "
                            "UID` instead");
}

Result<InstallLayout> ResolveLayout(const std::string& owner, const std::string& prefix,
                                    const std::string& state_dir) {
  if (owner.empty()) {
    return InvalidArgument("name the owner: --owner USER (and $SUDO_USER is not set)");
  }
  passwd pw{};
  passwd* found = nullptr;
  char buf[4096];
  uint32_t uid = 0;
  auto [end, ec] = std::from_chars(owner.data(), owner.data() + owner.size(), uid);
  if (ec == std::errc() && end == owner.data() + owner.size()) {
    getpwuid_r(static_cast<uid_t>(uid), &pw, buf, sizeof buf, &found);
  } else {
    getpwnam_r(owner.c_str(), &pw, buf, sizeof buf, &found);
  }
  if (found == nullptr) return NotFound("--owner: no user " + Quote(owner));
  InstallLayout layout;
  layout.owner = pw.pw_name;
  layout.owner_uid = pw.pw_uid;
  layout.owner_gid = pw.pw_gid;
  layout.bin_dir = JoinPath(prefix, "bin");
  layout.state_dir =
      state_dir.empty() ? JoinPath(pw.pw_dir, ".local/state/banger") : state_dir;
  BANGER_RETURN_IF_ERROR(ValidateUnitPath("--prefix", prefix));
  BANGER_RETURN_IF_ERROR(ValidateUnitPath("state dir", layout.state_dir));
  for (char c : layout.owner) {
    if (!isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
      return InvalidArgument("--owner: user name " + Quote(layout.owner) +
                             " cannot stand in a unit file (User=); give the uid");
    }
  }
  return layout;
}

Result<InstallRecord> Install(CommandRunner& runner, const SystemPaths& paths,
                              const InstallLayout& layout, const InstallSources& sources) {
  BANGER_ASSIGN_OR_RETURN(std::optional<InstallRecord> previous,
                          ReadInstallRecord(paths.record_path));
  if (previous && previous->layout.owner_uid != layout.owner_uid) {
    return Error(Code::kAlreadyExists,
                 "banger is installed for " + Quote(previous->layout.owner) + " (see " +
                     Quote(paths.record_path) + "): `banger system uninstall` first");
  }
  InstallRecord record;
  record.layout = layout;
  record.build = BuildString();
  if (previous) record.binaries = previous->binaries;

  const std::pair<std::string, std::string> binaries[] = {
      {sources.banger, JoinPath(layout.bin_dir, "banger")},
      {sources.helper, JoinPath(layout.bin_dir, "banger-helper")}};
  for (const auto& [from, to] : binaries) {
    if (access(from.c_str(), X_OK) != 0) return Error::FromErrno("binary to install " + Quote(from));
    if (SameFile(from, to)) continue;
    BANGER_RETURN_IF_ERROR(InstallBinary(from, to));
    Remember(record.binaries, to);
  }

  const std::pair<const char*, std::string> units[] = {
      {kHelperUnit, RenderHelperUnit(layout)}, {kDaemonUnit, RenderDaemonUnit(layout)}};
  BANGER_RETURN_IF_ERROR(MakeDirs(paths.unit_dir, 0755));
  for (const auto& [name, text] : units) {
    const std::string path = JoinPath(paths.unit_dir, name);
    BANGER_RETURN_IF_ERROR(AtomicWriteFile(path, text, 0644));
    record.unit_files.push_back(path);
  }
  // The record first: an install that fails below is still uninstallable.
  BANGER_RETURN_IF_ERROR(WriteInstallRecord(paths.record_path, record));
  BANGER_RETURN_IF_ERROR(Systemctl(runner, {"daemon-reload"}));
  BANGER_RETURN_IF_ERROR(Systemctl(runner, {"enable", kHelperUnit, kDaemonUnit}));
  BANGER_RETURN_IF_ERROR(Systemctl(runner, {"restart", kHelperUnit, kDaemonUnit}));
  return record;
}

Status RestartUnits(CommandRunner& runner) {
  BANGER_RETURN_IF_ERROR(Systemctl(runner, {"restart", kHelperUnit, kDaemonUnit}));
  return OkStatus();
}

Result<std::vector<std::string>> Uninstall(CommandRunner& runner, const SystemPaths& paths,
                                           const InstallRecord& record,
                                           const UninstallOptions& options) {
  std::vector<RunningVm> running;
  if (options.purge) {
    BANGER_ASSIGN_OR_RETURN(running, RunningVms(record.layout.state_dir));
    if (!running.empty() && !options.force) {
      return Error(Code::kBusy, "--purge would delete the disks of running VMs (" +
                                    VmNames(running) + " in " + Quote(record.layout.state_dir) +
                                    "): stop them first, or add --force");
    }
  }
  const std::string& state_dir = record.layout.state_dir;
  // --state-dir may have named any directory: delete only one that banger
  // made (its store, or the daemon's files), never, say, a home directory.
  if (options.purge && PathExists(state_dir) && !PathExists(JoinPath(state_dir, "state.db")) &&
      !PathExists(JoinPath(state_dir, "daemon"))) {
    return FailedPrecondition("--purge: " + Quote(state_dir) +
                              " holds no banger state (no state.db or daemon/); remove it "
                              "yourself if it is meant to go");
  }
  std::vector<std::string> removed;
  // Stopped before anything is removed; a unit whose file is already gone
  // is fine, any other failure stops the uninstall.
  for (const char* unit : {kDaemonUnit, kHelperUnit}) {
    if (PathExists(JoinPath(paths.unit_dir, unit))) {
      BANGER_RETURN_IF_ERROR(Systemctl(runner, {"disable", "--now", unit}));
    }
  }
  for (const RunningVm& vm : running) {
    BANGER_RETURN_IF_ERROR(KillProcess(vm.pid, vm.pid_start_ticks));
  }
  for (const std::string& path : record.unit_files) {
    if (unlink(path.c_str()) == 0) removed.push_back(path);
    else if (errno != ENOENT) return Error::FromErrno("remove unit " + Quote(path));
  }
  BANGER_RETURN_IF_ERROR(Systemctl(runner, {"daemon-reload"}));
  // A unit that failed before it was stopped would stay listed as failed.
  (void)runner.Run({.argv = {"systemctl", "reset-failed", kHelperUnit, kDaemonUnit},
                    .timeout = kSystemctlTimeout});
  if (PathExists(paths.runtime_dir)) {
    BANGER_RETURN_IF_ERROR(RemoveTree(paths.runtime_dir));
    removed.push_back(paths.runtime_dir);
  }
  for (const std::string& path : record.binaries) {
    if (unlink(path.c_str()) == 0) removed.push_back(path);
    else if (errno != ENOENT) return Error::FromErrno("remove " + Quote(path));
  }
  if (options.purge) {
    BANGER_RETURN_IF_ERROR(
        ReleaseNetwork(runner, paths.helper_state_dir, record.layout.owner_uid, removed));
    for (const std::string& dir : {state_dir, paths.helper_state_dir}) {
      if (!PathExists(dir)) continue;
      BANGER_RETURN_IF_ERROR(RemoveTree(dir));
      removed.push_back(dir);
    }
  }
  if (unlink(paths.record_path.c_str()) != 0 && errno != ENOENT) {
    return Error::FromErrno("remove " + Quote(paths.record_path));
  }
  removed.push_back(paths.record_path);
  rmdir(Dirname(paths.record_path).c_str());  // only when empty: other files are not ours
  return removed;
}

}  // namespace banger::system
