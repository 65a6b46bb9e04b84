#include "reconciler/access/ssh_client_config.h"

#include <sys/stat.h>

#include <climits>
#include <cstdlib>
#include <functional>

#include "reconciler/access/known_hosts.h"
#include "reconciler/access/remote_command.h"
#include "reconciler/os/fs.h"

namespace banger::access {
namespace {

// ssh_config expands %-tokens in paths and splits arguments on spaces.
std::string ConfigValue(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '%') out += "%%";
    else out += c;
  }
  if (out.find_first_of(" \t") != std::string::npos) out = "\"" + out + "\"";
  return out;
}

std::string ManagedBlock(std::string_view include) {
  return std::string(kManagedBlockBegin) + "\nInclude " + ConfigValue(include) + "\n" +
         std::string(kManagedBlockEnd) + "\n";
}

// Offset of the start of the first line equal to `text` at or after `from`.
size_t FindLine(std::string_view content, std::string_view text, size_t from) {
  size_t pos = from;
  while (pos < content.size()) {
    size_t end = content.find('\n', pos);
    size_t len = (end == std::string_view::npos ? content.size() : end) - pos;
    if (content.substr(pos, len) == text) return pos;
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return std::string_view::npos;
}

// The file to edit: the target of a symlinked config (dotfile managers link
// ~/.ssh/config), so the rename does not replace the link with a copy.
Result<std::string> EditTarget(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return path;
  char buf[PATH_MAX];
  if (!realpath(path.c_str(), buf)) return Error::FromErrno("resolve symlink " + Quote(path));
  return std::string(buf);
}

Status RewriteUserConfig(const std::string& path,
                         const std::function<std::string(std::string_view)>& edit) {
  const std::string dir = Dirname(path);
  if (!PathExists(dir)) BANGER_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  BANGER_ASSIGN_OR_RETURN(std::string target, EditTarget(path));
  std::string content;
  mode_t mode = 0600;
  struct stat st;
  if (stat(target.c_str(), &st) == 0) {
    mode = st.st_mode & 07777;
    BANGER_ASSIGN_OR_RETURN(content, ReadFile(target));
  } else if (errno != ENOENT) {
    return Error::FromErrno("stat " + Quote(target));
  }
  std::string updated = edit(content);
  if (updated == content) return OkStatus();
  return AtomicWriteFile(target, updated, mode);
}

}  // namespace

std::vector<std::string> SshClientArgv(const SshPaths& paths, const std::string& vm,
                                       const std::string& ip,
                                       const std::vector<std::string>& command, int port) {
  std::vector<std::string> argv = {
      "ssh", "-i", paths.key,
      "-o", "UserKnownHostsFile=" + paths.known_hosts,
      "-o", "StrictHostKeyChecking=yes",
      "-o", "IdentitiesOnly=yes",
      "-o", "HostKeyAlias=" + HostKeyAlias(vm)};
  if (port != 22) {
    argv.push_back("-p");
    argv.push_back(std::to_string(port));
  }
  argv.insert(argv.end(), {"-l", "root", ip});
  if (!command.empty()) {
    argv.push_back("--");
    argv.push_back(RemoteCommandLine(command));
  }
  return argv;
}

std::string RenderVmHostsConfig(const SshPaths& paths, const std::vector<VmEntry>& vms,
                                int port) {
  std::string out = "# Written by banger on every apply; edits here are overwritten.\n";
  for (const auto& vm : vms) {
    out += "\nHost " + HostKeyAlias(vm.name) + "\n";
    out += "  HostName " + vm.ip + "\n";
    if (port != 22) out += "  Port " + std::to_string(port) + "\n";
    out += "  User root\n";
    out += "  IdentityFile " + ConfigValue(paths.key) + "\n";
    out += "  IdentitiesOnly yes\n";
    out += "  UserKnownHostsFile " + ConfigValue(paths.known_hosts) + "\n";
    out += "  HostKeyAlias " + HostKeyAlias(vm.name) + "\n";
    out += "  StrictHostKeyChecking yes\n";
  }
  return out;
}

std::string InstallManagedBlock(std::string_view user_config, std::string_view include) {
  return ManagedBlock(include) + RemoveManagedBlock(user_config);
}

std::string RemoveManagedBlock(std::string_view user_config) {
  size_t begin = FindLine(user_config, kManagedBlockBegin, 0);
  if (begin == std::string_view::npos) return std::string(user_config);
  size_t end = FindLine(user_config, kManagedBlockEnd, begin);
  // A BEGIN without END is not ours to guess about: leave the file alone.
  if (end == std::string_view::npos) return std::string(user_config);
  size_t after = user_config.find('\n', end);
  after = after == std::string_view::npos ? user_config.size() : after + 1;
  return std::string(user_config.substr(0, begin)) + std::string(user_config.substr(after));
}

Status WriteSshConfig(const SshPaths& paths, const std::vector<VmEntry>& vms, int port) {
  BANGER_RETURN_IF_ERROR(MakeDirs(paths.dir, 0700));
  Status st = AtomicWriteFile(paths.client_config, RenderVmHostsConfig(paths, vms, port), 0600);
  if (!st.ok()) return std::move(st).error().WithContext("write ssh config");
  return OkStatus();
}

Status InstallSshConfig(const std::string& user_config_path, const SshPaths& paths) {
  Status st = RewriteUserConfig(user_config_path, [&](std::string_view c) {
    return InstallManagedBlock(c, paths.client_config);
  });
  if (!st.ok()) return std::move(st).error().WithContext("install banger's block in " + Quote(user_config_path));
  return OkStatus();
}

Status UninstallSshConfig(const std::string& user_config_path) {
  if (!PathExists(user_config_path)) return OkStatus();
  Status st = RewriteUserConfig(user_config_path, RemoveManagedBlock);
  if (!st.ok()) return std::move(st).error().WithContext("remove banger's block from " + Quote(user_config_path));
  return OkStatus();
}

}  // namespace banger::access
