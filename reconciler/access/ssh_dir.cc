#include "reconciler/access/ssh_dir.h"

#include <sys/stat.h>

#include "reconciler/os/file_lock.h"
#include "reconciler/os/fs.h"

namespace banger::access {

SshPaths SshPaths::ForConfigDir(const std::string& config_dir) {
  SshPaths p;
  p.dir = JoinPath(config_dir, "ssh");
  p.key = JoinPath(p.dir, "id_ed25519");
  p.pub = p.key + ".pub";
  p.known_hosts = JoinPath(p.dir, "known_hosts");
  p.client_config = JoinPath(p.dir, "config");
  p.key_lock = JoinPath(p.dir, ".id_ed25519.lock");
  p.known_hosts_lock = JoinPath(p.dir, ".known_hosts.lock");
  return p;
}

namespace {

bool KeyComplete(const SshPaths& paths) {
  // The private key is renamed in last, so its presence means the pair is.
  return PathExists(paths.key) && PathExists(paths.pub);
}

Status GenerateInto(const SshPaths& paths, CommandRunner& runner) {
  BANGER_ASSIGN_OR_RETURN(TempDir tmp, TempDir::Create(paths.dir, ".keygen-"));
  const std::string key = JoinPath(tmp.path(), "id_ed25519");
  BANGER_RETURN_IF_ERROR(RunChecked(
      runner, {.argv = {"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "banger", "-f", key},
               .timeout = std::chrono::seconds(30)}));
  if (chmod(key.c_str(), 0600) != 0) return Error::FromErrno("chmod " + Quote(key));
  if (rename((key + ".pub").c_str(), paths.pub.c_str()) != 0)
    return Error::FromErrno("rename " + Quote(key + ".pub") + " to " + Quote(paths.pub));
  if (rename(key.c_str(), paths.key.c_str()) != 0)
    return Error::FromErrno("rename " + Quote(key) + " to " + Quote(paths.key));
  return SyncDir(paths.dir);
}

}  // namespace

Status EnsureManagedKey(const SshPaths& paths, CommandRunner& runner) {
  if (KeyComplete(paths)) return OkStatus();
  BANGER_RETURN_IF_ERROR(MakeDirs(paths.dir, 0700));
  // MakeDirs leaves an existing dir's mode alone; ssh refuses keys in
  // directories others can write, so tighten it.
  if (chmod(paths.dir.c_str(), 0700) != 0) return Error::FromErrno("chmod " + Quote(paths.dir));
  BANGER_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(paths.key_lock));
  if (KeyComplete(paths)) return OkStatus();
  Status st = GenerateInto(paths, runner);
  if (!st.ok()) return std::move(st).error().WithContext("generate banger's ssh key " + Quote(paths.key));
  return OkStatus();
}

Result<std::string> ManagedAuthorizedKey(const SshPaths& paths, CommandRunner& runner) {
  BANGER_RETURN_IF_ERROR(EnsureManagedKey(paths, runner));
  BANGER_ASSIGN_OR_RETURN(std::string line, ReadFile(paths.pub));
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.empty() || line.find('\n') != std::string::npos)
    return Error(Code::kCorruption, "public key " + Quote(paths.pub) + " is not a single line");
  return line;
}

Result<std::vector<agent::HostKeyPair>> MakeGuestHostKeys(const std::string& host,
                                                          const std::string& temp_parent,
                                                          CommandRunner& runner) {
  BANGER_ASSIGN_OR_RETURN(TempDir tmp, TempDir::Create(temp_parent, ".hostkeys-"));
  struct KeyType {
    const char* type;
    const char* bits;
  };
  std::vector<agent::HostKeyPair> out;
  for (const KeyType& t : {KeyType{"rsa", "3072"}, KeyType{"ecdsa", "256"}, KeyType{"ed25519", ""}}) {
    const std::string file = JoinPath(tmp.path(), std::string("ssh_host_") + t.type + "_key");
    std::vector<std::string> argv = {"ssh-keygen", "-q", "-t", t.type, "-N", "", "-C",
                                     "root@" + host, "-f", file};
    if (*t.bits) argv.insert(argv.begin() + 4, {"-b", t.bits});
    BANGER_RETURN_IF_ERROR(
        RunChecked(runner, {.argv = argv, .timeout = std::chrono::seconds(60)}));
    agent::HostKeyPair pair;
    pair.type = t.type;
    BANGER_ASSIGN_OR_RETURN(pair.private_key, ReadFile(file));
    BANGER_ASSIGN_OR_RETURN(pair.public_key, ReadFile(file + ".pub"));
    out.push_back(std::move(pair));
  }
  return out;
}

}  // namespace banger::access
