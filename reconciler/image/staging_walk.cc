#include "reconciler/image/staging_walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "reconciler/os/cancel.h"
#include "reconciler/os/unique_fd.h"

namespace banger::image {
namespace {

Status WalkDir(int dirfd, const std::string& shown_root, const std::string& prefix,
               const StagingVisitor& visit) {
  // fdopendir takes ownership of its fd, so hand it a duplicate.
  int dup_fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return Error::FromErrno("walk " + Quote(shown_root + "/" + prefix));
  DIR* d = fdopendir(dup_fd);
  if (!d) {
    close(dup_fd);
    return Error::FromErrno("walk " + Quote(shown_root + "/" + prefix));
  }
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    names.emplace_back(e->d_name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    std::string rel = prefix.empty() ? name : prefix + "/" + name;
    // Every tree walk of a build passes here: the place to stop on SIGINT.
    BANGER_RETURN_IF_ERROR(CheckCancelled("walk " + Quote(shown_root)));
    struct stat st;
    if (fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return Error::FromErrno("stat " + Quote(shown_root + "/" + rel));
    }
    BANGER_RETURN_IF_ERROR(visit(rel, st));
    if (S_ISDIR(st.st_mode)) {
      UniqueFd child(openat(dirfd, name.c_str(),
                            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!child.valid()) return Error::FromErrno("open " + Quote(shown_root + "/" + rel));
      BANGER_RETURN_IF_ERROR(WalkDir(child.get(), shown_root, rel, visit));
    }
  }
  return OkStatus();
}

}  // namespace

Status WalkStaging(const std::string& root, const StagingVisitor& visit) {
  UniqueFd fd(open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return Error::FromErrno("open " + Quote(root));
  return WalkDir(fd.get(), root, "", visit);
}

EntryMeta EffectiveMeta(const RootfsTree& tree, const std::string& rel,
                        const struct stat& st) {
  if (const EntryMeta* m = tree.Find(rel)) return *m;
  EntryMeta meta;
  meta.mode = st.st_mode;
  return meta;
}

bool IsSpecialNode(uint32_t mode) {
  return S_ISCHR(mode) || S_ISBLK(mode) || S_ISFIFO(mode);
}

Result<std::map<std::string, StagedItem>> CollectStagedItems(const RootfsTree& tree) {
  std::map<std::string, StagedItem> items;
  BANGER_RETURN_IF_ERROR(WalkStaging(
      tree.root(), [&](const std::string& rel, const struct stat& st) -> Status {
        StagedItem& item = items[rel];
        item.staged = true;
        item.st = st;
        item.meta = EffectiveMeta(tree, rel, st);
        return OkStatus();
      }));
  for (const auto& [rel, meta] : tree.entries()) {
    if (rel.empty() || items.count(rel) || !IsSpecialNode(meta.mode)) continue;
    items[rel].meta = meta;
  }
  return items;
}

std::string ImagePath(const std::string& rel) { return "/" + rel; }

}  // namespace banger::image
