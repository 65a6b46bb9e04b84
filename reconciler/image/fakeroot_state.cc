#include "reconciler/image/fakeroot_state.h"

#include <sys/stat.h>

#include <cstdlib>

#include "reconciler/image/staging_walk.h"

namespace banger::image {
namespace {

// Reads "key=value" fields separated by commas.
bool Field(std::string_view line, std::string_view key, int base, uint64_t& out) {
  size_t at = 0;
  while (at < line.size()) {
    size_t end = line.find(',', at);
    if (end == std::string_view::npos) end = line.size();
    std::string_view field = line.substr(at, end - at);
    if (field.size() > key.size() && field.substr(0, key.size()) == key &&
        field[key.size()] == '=') {
      std::string value(field.substr(key.size() + 1));
      if (value.empty()) return false;
      char* rest = nullptr;
      errno = 0;
      out = strtoull(value.c_str(), &rest, base);
      return errno == 0 && rest && *rest == '\0';
    }
    at = end + 1;
  }
  return false;
}

}  // namespace

Result<FakerootState> ParseFakerootState(std::string_view text) {
  FakerootState state;
  size_t line_no = 0;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(at, end - at);
    at = end + 1;
    ++line_no;
    if (line.empty()) continue;
    uint64_t dev, ino, mode, uid, gid, rdev;
    if (!Field(line, "dev", 16, dev) || !Field(line, "ino", 10, ino) ||
        !Field(line, "mode", 8, mode) || !Field(line, "uid", 10, uid) ||
        !Field(line, "gid", 10, gid) || !Field(line, "rdev", 10, rdev)) {
      return Error(Code::kCorruption, "fakeroot state line " + std::to_string(line_no) +
                                          ": cannot read " + Quote(line));
    }
    state[{dev, ino}] = FakerootInode{static_cast<uint32_t>(mode), static_cast<uint32_t>(uid),
                                      static_cast<uint32_t>(gid), rdev};
  }
  return state;
}

Status ApplyFakerootState(const FakerootState& state, RootfsTree& tree) {
  auto record = [&](const std::string& rel, const struct stat& st) {
    EntryMeta meta;
    auto it = state.find({static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)});
    // A type mismatch means a stale entry for a reused inode, except for a
    // device node, which fakeroot stages as an empty regular file.
    bool usable = it != state.end() &&
                  ((it->second.mode & S_IFMT) == (st.st_mode & S_IFMT) ||
                   (IsSpecialNode(it->second.mode) && S_ISREG(st.st_mode)));
    if (usable) {
      meta.uid = it->second.uid;
      meta.gid = it->second.gid;
      meta.mode = it->second.mode;
      if (IsSpecialNode(meta.mode)) meta.rdev = it->second.rdev;
    } else {
      meta.mode = st.st_mode;
    }
    tree.Set(rel, std::move(meta));
  };
  struct stat root_st;
  if (lstat(tree.root().c_str(), &root_st) != 0) return Error::FromErrno("stat " + Quote(tree.root()));
  record("", root_st);
  return WalkStaging(tree.root(), [&](const std::string& rel, const struct stat& st) -> Status {
    record(rel, st);
    return OkStatus();
  });
}

}  // namespace banger::image
