#include "reconciler/image/work_seed.h"

#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "reconciler/os/fs.h"

namespace banger::image {
namespace {

constexpr char kHome[] = "root";
const EntryMeta kPrivateDir{0, 0, S_IFDIR | 0700, 0, {}};

Status CopySkel(const RootfsTree& rootfs, RootfsTree& seed) {
  for (const char* name : {".bashrc", ".profile"}) {
    std::string rel = std::string("etc/skel/") + name;
    std::string from = JoinPath(rootfs.root(), rel);
    struct stat st;
    // lstat: a symlinked skel file could point into the host.
    if (lstat(from.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    BANGER_ASSIGN_OR_RETURN(std::string content, ReadFile(from));
    BANGER_RETURN_IF_ERROR(AtomicWriteFile(JoinPath(seed.root(), name), content, 0644));
    seed.Set(name, EntryMeta{0, 0, S_IFREG | 0644, 0, {}});
  }
  return OkStatus();
}

}  // namespace

Status SplitWorkSeed(RootfsTree& rootfs, RootfsTree& seed) {
  const std::string home = JoinPath(rootfs.root(), kHome);
  struct stat st;
  bool moved_any = false;
  if (lstat(home.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    BANGER_ASSIGN_OR_RETURN(auto names, ListDir(home));
    for (const auto& n : names) {
      std::string from = JoinPath(home, n);
      std::string to = JoinPath(seed.root(), n);
      if (rename(from.c_str(), to.c_str()) != 0) {
        return Error::FromErrno("move " + Quote(from) + " to the work seed");
      }
      moved_any = true;
    }
    // Re-key the metadata of everything that moved: "root/x" -> "x".
    const std::string prefix = std::string(kHome) + "/";
    std::vector<std::pair<std::string, EntryMeta>> moved;
    for (const auto& [rel, meta] : rootfs.entries()) {
      if (rel.compare(0, prefix.size(), prefix) == 0) moved.emplace_back(rel.substr(prefix.size()), meta);
    }
    for (auto& [rel, meta] : moved) seed.Set(rel, std::move(meta));
  } else if (lstat(home.c_str(), &st) == 0) {
    if (unlink(home.c_str()) != 0) return Error::FromErrno("replace " + Quote(home));
  }
  rootfs.Erase(kHome);
  if (!IsDirectory(home) && mkdir(home.c_str(), 0700) != 0) {
    return Error::FromErrno("create " + Quote(home));
  }
  rootfs.Set(kHome, kPrivateDir);
  seed.Set("", kPrivateDir);
  if (!moved_any) BANGER_RETURN_IF_ERROR(CopySkel(rootfs, seed));
  return OkStatus();
}

}  // namespace banger::image
