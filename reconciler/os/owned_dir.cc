#include "reconciler/os/owned_dir.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include <mutex>

#include "reconciler/os/fs.h"

namespace banger {
namespace {

bool ProcessExists(pid_t pid) { return kill(pid, 0) == 0 || errno == EPERM; }

}  // namespace

Result<OwnedDir> OwnedDir::Create(const std::string& parent, const std::string& prefix) {
  BANGER_RETURN_IF_ERROR(MakeDirs(parent, 0700));
  std::string templ = JoinPath(parent, prefix + std::to_string(getpid()) + ".XXXXXX");
  if (!mkdtemp(templ.data())) return Error::FromErrno("create directory in " + Quote(parent));
  UniqueFd fd(open(templ.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid() || flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    Error e = Error::FromErrno("lock " + Quote(templ));
    (void)RemoveTree(templ);
    return e;
  }
  return OwnedDir(std::move(templ), std::move(fd));
}

void OwnedDir::Remove() {
  if (!path_.empty()) (void)RemoveTree(path_);
  path_.clear();
  lock_.Reset();
}

OwnedDir::~OwnedDir() { Remove(); }

std::string OwnedDir::Release() {
  lock_.Reset();
  return std::exchange(path_, std::string());
}

std::string OwnedDir::Suffix() const {
  const std::string name = Basename(path_);
  const size_t dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(dot + 1);
}

OwnedDir& OwnedDir::operator=(OwnedDir&& other) noexcept {
  if (this != &other) {
    Remove();
    path_ = std::exchange(other.path_, std::string());
    lock_ = std::move(other.lock_);
  }
  return *this;
}

pid_t OwnerPid(const std::string& name, const std::string& prefix) {
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return 0;
  size_t i = prefix.size();
  long long pid = 0;
  size_t digits = 0;
  for (; i < name.size() && name[i] >= '0' && name[i] <= '9' && digits < 10; ++i, ++digits) {
    pid = pid * 10 + (name[i] - '0');
  }
  if (digits == 0 || i + 1 >= name.size() || name[i] != '.') return 0;
  if (pid <= 0 || pid > 0x7fffffff) return 0;
  return static_cast<pid_t>(pid);
}

Result<SweepResult> SweepDeadOwners(const std::string& parent,
                                    const std::vector<std::string>& prefixes) {
  SweepResult out;
  if (!IsDirectory(parent)) return out;
  BANGER_ASSIGN_OR_RETURN(auto names, ListDir(parent));
  for (const auto& name : names) {
    pid_t pid = 0;
    for (const auto& prefix : prefixes) {
      if ((pid = OwnerPid(name, prefix)) != 0) break;
    }
    if (pid == 0) continue;
    const std::string path = JoinPath(parent, name);
    // O_NOFOLLOW: a symlink of that name is not ours to follow or remove.
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) continue;
    if (ProcessExists(pid) || flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      out.kept.push_back(path);
      continue;
    }
    // Removed while holding the lock, so no one can adopt it meanwhile.
    Status st = RemoveTree(path);
    if (!st.ok()) return std::move(st).error().WithContext("sweep leftovers of process " +
                                                            std::to_string(pid));
    out.removed.push_back(path);
  }
  return out;
}

std::string HostTempParent() {
  static std::mutex mu;
  static OwnedDir dir;  // removed by static destruction at exit
  static std::string fallback;
  std::lock_guard<std::mutex> lock(mu);
  if (!dir.path().empty()) return dir.path();
  if (!fallback.empty()) return fallback;
  const char* tmp = getenv("TMPDIR");
  const std::string parent = tmp && *tmp ? tmp : "/tmp";
  auto created = OwnedDir::Create(parent, kHostTempPrefix);
  if (!created.ok()) {
    fallback = parent;
    return fallback;
  }
  dir = std::move(*created);
  return dir.path();
}

}  // namespace banger
