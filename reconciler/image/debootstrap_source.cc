#include "reconciler/image/debootstrap_source.h"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "reconciler/image/image_source.h"
#include "reconciler/image/staging_walk.h"
#include "reconciler/image/tree_archive.h"
#include "reconciler/kernel/digest.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/owned_dir.h"

namespace banger::image {
namespace {

constexpr std::chrono::minutes kBootstrapTimeout{45};

std::string MirrorOf(const specs::ImageSpec& spec) {
  return spec.mirror.empty() ? kDefaultDebianMirror : spec.mirror;
}

std::vector<std::string> Packages(const specs::ImageSpec& spec) {
  std::set<std::string> unique(spec.include.begin(), spec.include.end());
  return {unique.begin(), unique.end()};
}

std::string Join(const std::vector<std::string>& parts, char sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

std::vector<std::string> BootstrapEnvironment() {
  std::vector<std::string> env = {
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "LANG=C", "LC_ALL=C", "DEBIAN_FRONTEND=noninteractive"};
  for (const char* name : {"HOME", "TMPDIR", "USER", "http_proxy", "https_proxy", "no_proxy"}) {
    if (const char* v = getenv(name)) env.push_back(std::string(name) + "=" + v);
  }
  return env;
}

// Replaces a path (file, symlink or directory tree) with an empty directory.
Status MakeEmptyDir(RootfsTree& tree, const std::string& rel, uint32_t perm) {
  std::string path = JoinPath(tree.root(), rel);
  BANGER_RETURN_IF_ERROR(RemoveTree(path));
  tree.Erase(rel);
  if (mkdir(path.c_str(), 0755) != 0) return Error::FromErrno("create " + Quote(path));
  tree.Set(rel, EntryMeta{0, 0, S_IFDIR | perm, 0, {}});
  return OkStatus();
}

// fakechroot records absolute symlink targets with the chroot's host path
// in front; inside the image they must start at its own root.
Status StripRootPrefixFromLinks(RootfsTree& tree) {
  const std::string prefix = tree.root();
  std::vector<std::pair<std::string, std::string>> fixes;
  BANGER_RETURN_IF_ERROR(WalkStaging(prefix, [&](const std::string& rel, const struct stat& st) -> Status {
    if (!S_ISLNK(st.st_mode)) return OkStatus();
    std::string path = JoinPath(prefix, rel);
    std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
    ssize_t n = readlink(path.c_str(), target.data(), target.size());
    if (n < 0) return Error::FromErrno("read link " + Quote(path));
    target.resize(static_cast<size_t>(n));
    if (target == prefix) {
      fixes.emplace_back(path, "/");
    } else if (target.size() > prefix.size() && target.compare(0, prefix.size(), prefix) == 0 &&
               target[prefix.size()] == '/') {
      fixes.emplace_back(path, target.substr(prefix.size()));
    }
    return OkStatus();
  }));
  for (const auto& [path, target] : fixes) {
    if (unlink(path.c_str()) != 0 || symlink(target.c_str(), path.c_str()) != 0) {
      return Error::FromErrno("rewrite link " + Quote(path));
    }
  }
  return OkStatus();
}

// Puts a diverted original back in place (`mv X.REAL X`), keeping its metadata.
Status RestoreDiverted(RootfsTree& tree, const std::string& rel) {
  std::string real_rel = rel + ".REAL";
  std::string real = JoinPath(tree.root(), real_rel);
  if (!PathExists(real)) return OkStatus();
  std::string path = JoinPath(tree.root(), rel);
  if (rename(real.c_str(), path.c_str()) != 0) return Error::FromErrno("restore " + Quote(path));
  if (const EntryMeta* m = tree.Find(real_rel)) {
    EntryMeta meta = *m;
    tree.Erase(real_rel);
    tree.Set(rel, std::move(meta));
  }
  return OkStatus();
}

// Drops the diversion records debootstrap added for its fake tools (three
// lines each: path, diverted-to path, package "fakechroot").
Status DropFakechrootDiversions(RootfsTree& tree) {
  std::string path = JoinPath(tree.root(), "var/lib/dpkg/diversions");
  if (!PathExists(path)) return OkStatus();
  BANGER_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::string out;
  for (size_t i = 0; i < lines.size();) {
    if (i + 2 < lines.size() && lines[i + 2] == "fakechroot") {
      i += 3;
      continue;
    }
    out += lines[i++] + "\n";
  }
  return AtomicWriteFile(path, out, 0644);
}

Status RemoveIfPresent(RootfsTree& tree, const std::string& rel) {
  BANGER_RETURN_IF_ERROR(RemoveTree(JoinPath(tree.root(), rel)));
  tree.Erase(rel);
  return OkStatus();
}

}  // namespace

std::string DebootstrapRecipeKey(const specs::ImageSpec& spec) {
  std::string recipe = "banger debootstrap v1\nsuite=" + spec.suite + "\nmirror=" + MirrorOf(spec) +
                       "\ninclude=" + Join(Packages(spec), ',') + "\n";
  return kernel::Sha256Hex(recipe);
}

std::vector<std::string> DebootstrapArgv(const specs::ImageSpec& spec,
                                         const std::string& state_file,
                                         const std::string& root) {
  std::vector<std::string> argv = {"fakechroot", "fakeroot", "-s", state_file,
                                   "debootstrap", "--variant=fakechroot"};
  auto packages = Packages(spec);
  if (!packages.empty()) argv.push_back("--include=" + Join(packages, ','));
  argv.insert(argv.end(), {spec.suite, root, MirrorOf(spec)});
  return argv;
}

Status CleanFakechrootTree(RootfsTree& tree) {
  BANGER_RETURN_IF_ERROR(StripRootPrefixFromLinks(tree));
  // The variant links /dev and /proc to the host's; a VM mounts its own.
  BANGER_RETURN_IF_ERROR(MakeEmptyDir(tree, "dev", 0755));
  BANGER_RETURN_IF_ERROR(MakeEmptyDir(tree, "proc", 0555));
  // Present before devtmpfs is mounted (early console, shells that need null).
  tree.Set("dev/console", EntryMeta{0, 0, S_IFCHR | 0600, makedev(5, 1), {}});
  tree.Set("dev/null", EntryMeta{0, 0, S_IFCHR | 0666, makedev(1, 3), {}});
  BANGER_RETURN_IF_ERROR(RestoreDiverted(tree, "usr/sbin/ldconfig"));
  BANGER_RETURN_IF_ERROR(RestoreDiverted(tree, "sbin/ldconfig"));
  BANGER_RETURN_IF_ERROR(RestoreDiverted(tree, "usr/bin/ldd"));
  BANGER_RETURN_IF_ERROR(DropFakechrootDiversions(tree));
  // Host files debootstrap copies in; the VM gets its own from the host
  // at boot (kernel command line).
  BANGER_RETURN_IF_ERROR(RemoveIfPresent(tree, "etc/resolv.conf"));
  BANGER_RETURN_IF_ERROR(AtomicWriteFile(JoinPath(tree.root(), "etc/hostname"), "debian\n", 0644));
  tree.Set("etc/hostname", EntryMeta{0, 0, S_IFREG | 0644, 0, {}});
  // apt's download cache: tens of MB nobody needs in every image.
  std::string archives = JoinPath(tree.root(), "var/cache/apt/archives");
  if (IsDirectory(archives)) {
    BANGER_ASSIGN_OR_RETURN(auto names, ListDir(archives));
    for (const auto& n : names) {
      if (n.size() > 4 && n.compare(n.size() - 4, 4, ".deb") == 0) {
        BANGER_RETURN_IF_ERROR(RemoveIfPresent(tree, "var/cache/apt/archives/" + n));
      }
    }
  }
  return OkStatus();
}

std::string DebootstrapSource::CachePath(const specs::ImageSpec& spec) const {
  return JoinPath(JoinPath(cache_dir_, "debootstrap"), DebootstrapRecipeKey(spec) + ".tar");
}

Result<std::string> DebootstrapSource::Identity(const specs::ImageSpec& spec) {
  if (spec.suite.empty()) return InvalidArgument("image " + Quote(spec.name) + ": debootstrap needs a suite");
  return "sha256:" + DebootstrapRecipeKey(spec);
}

Status DebootstrapSource::Bootstrap(const specs::ImageSpec& spec, RootfsTree& tree,
                                    apply::StepProgress& progress) {
  BANGER_ASSIGN_OR_RETURN(TempDir state_dir, TempDir::Create(HostTempParent(), "banger-fakeroot-"));
  std::string state_file = JoinPath(state_dir.path(), "state");
  ExecRequest req;
  req.argv = DebootstrapArgv(spec, state_file, tree.root());
  req.env = BootstrapEnvironment();
  req.timeout = kBootstrapTimeout;
  progress.Note("debootstrap " + spec.suite + " from " + MirrorOf(spec) + " (about a minute)");
  auto ran = RunChecked(runner_, req);
  if (!ran.ok()) {
    Error err = std::move(ran).error();
    // debootstrap's own log says which package or download failed.
    auto log = ReadFile(JoinPath(tree.root(), "debootstrap/debootstrap.log"));
    if (log.ok() && !log->empty()) {
      std::string tail = log->size() > 600 ? log->substr(log->size() - 600) : *log;
      err = Error(err.code(), err.message() + "; debootstrap.log ends: " + tail, err.sys_errno());
    }
    return err;
  }
  BANGER_ASSIGN_OR_RETURN(std::string state_text, ReadFile(state_file));
  BANGER_ASSIGN_OR_RETURN(FakerootState state, ParseFakerootState(state_text));
  BANGER_RETURN_IF_ERROR(ApplyFakerootState(state, tree));
  return CleanFakechrootTree(tree);
}

Status DebootstrapSource::Populate(const specs::ImageSpec& spec, RootfsTree& tree,
                                   apply::StepProgress& progress) {
  std::string cached = CachePath(spec);
  if (PathExists(cached)) {
    progress.Note("using cached debootstrap tree " + cached);
    Status st = ExtractRootfsTarball(cached, tree, limits_);
    if (!st.ok()) return std::move(st).error().WithContext("image " + Quote(spec.name));
    return OkStatus();
  }
  Status st = Bootstrap(spec, tree, progress);
  if (!st.ok()) return std::move(st).error().WithContext("image " + Quote(spec.name) + ": debootstrap");
  progress.Note("caching the tree as " + cached);
  st = MakeDirs(Dirname(cached));
  if (st.ok()) st = WriteTreeTarball(tree, cached);
  if (!st.ok()) return std::move(st).error().WithContext("image " + Quote(spec.name) + ": cache");
  return OkStatus();
}

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
