#include "reconciler/image/image_source.h"

#include <cerrno>
#include <fcntl.h>
#include <map>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <vector>

#include "reconciler/image/debootstrap_source.h"
#include "reconciler/image/layer_extract.h"
#include "reconciler/image/staging_walk.h"
#include "reconciler/kernel/digest.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/unique_fd.h"

namespace banger::image {
namespace {

// system.* holds ACLs and similar kernel-interpreted attributes that ext4
// stores differently; the namespaces below are copied byte for byte.
bool KeepXattr(const std::string& name) {
  return name.rfind("user.", 0) == 0 || name.rfind("security.", 0) == 0 ||
         name.rfind("trusted.", 0) == 0;
}

Result<std::map<std::string, std::string>> ReadXattrs(const std::string& path) {
  std::map<std::string, std::string> out;
  ssize_t len = llistxattr(path.c_str(), nullptr, 0);
  if (len < 0) {
    if (errno == ENOTSUP) return out;
    return Error::FromErrno("list xattrs of " + Quote(path));
  }
  std::vector<char> names(static_cast<size_t>(len) + 1);
  len = llistxattr(path.c_str(), names.data(), names.size());
  if (len < 0) return Error::FromErrno("list xattrs of " + Quote(path));
  for (ssize_t at = 0; at < len;) {
    std::string name(names.data() + at);
    at += static_cast<ssize_t>(name.size()) + 1;
    if (!KeepXattr(name)) continue;
    ssize_t vlen = lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
    // trusted.* is visible only to root; unreadable attributes are not ours to copy.
    if (vlen < 0 && (errno == EPERM || errno == EACCES || errno == ENODATA)) continue;
    if (vlen < 0) return Error::FromErrno("read xattr " + Quote(name) + " of " + Quote(path));
    std::string value(static_cast<size_t>(vlen), '\0');
    vlen = lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
    if (vlen < 0) return Error::FromErrno("read xattr " + Quote(name) + " of " + Quote(path));
    value.resize(static_cast<size_t>(vlen));
    out[name] = std::move(value);
  }
  return out;
}

Status CopyFileContent(const std::string& from, const std::string& to, const struct stat& st) {
  UniqueFd in(open(from.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!in.valid()) return Error::FromErrno("open " + Quote(from));
  UniqueFd out(open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!out.valid()) return Error::FromErrno("create " + Quote(to));
  std::vector<char> buf(1 << 20);
  for (;;) {
    ssize_t n = read(in.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno("read " + Quote(from));
    if (n == 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(out.get(), buf.data() + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return Error::FromErrno("write " + Quote(to));
      off += w;
    }
  }
  // Owner-accessible on disk; the real mode (setuid included) is metadata.
  mode_t perm = (st.st_mode & 0777) | 0600;
  if (fchmod(out.get(), perm) != 0) return Error::FromErrno("chmod " + Quote(to));
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  (void)futimens(out.get(), times);  // mtimes are informative only
  return OkStatus();
}

Result<std::string> ReadLink(const std::string& path, const struct stat& st) {
  std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
  ssize_t n = readlink(path.c_str(), target.data(), target.size());
  if (n < 0) return Error::FromErrno("read link " + Quote(path));
  target.resize(static_cast<size_t>(n));
  return target;
}

}  // namespace

Status CopyTreeFromDir(const std::string& source_dir, RootfsTree& tree) {
  struct stat root_st;
  if (lstat(source_dir.c_str(), &root_st) != 0) return Error::FromErrno("stat " + Quote(source_dir));
  if (!S_ISDIR(root_st.st_mode)) return InvalidArgument(Quote(source_dir) + " is not a directory");
  EntryMeta root_meta{root_st.st_uid, root_st.st_gid, root_st.st_mode, 0, {}};
  BANGER_ASSIGN_OR_RETURN(root_meta.xattrs, ReadXattrs(source_dir));
  tree.Set("", std::move(root_meta));

  std::map<std::pair<dev_t, ino_t>, std::string> first_name;  // hardlink groups
  return WalkStaging(source_dir, [&](const std::string& rel, const struct stat& st) -> Status {
    std::string from = JoinPath(source_dir, rel);
    std::string to = JoinPath(tree.root(), rel);
    if (S_ISSOCK(st.st_mode)) return OkStatus();  // runtime objects, not content
    EntryMeta meta{st.st_uid, st.st_gid, st.st_mode, 0, {}};
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) meta.rdev = st.st_rdev;
    BANGER_ASSIGN_OR_RETURN(meta.xattrs, ReadXattrs(from));

    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
      auto [it, fresh] = first_name.try_emplace({st.st_dev, st.st_ino}, rel);
      if (!fresh) {
        const EntryMeta* first = tree.Find(it->second);
        bool staged = PathExists(JoinPath(tree.root(), it->second));
        if (staged) {
          if (link(JoinPath(tree.root(), it->second).c_str(), to.c_str()) != 0)
            return Error::FromErrno("hardlink " + Quote(to));
        }
        tree.Set(rel, first ? *first : meta);
        return OkStatus();
      }
    }
    if (S_ISDIR(st.st_mode)) {
      if (mkdir(to.c_str(), (st.st_mode & 0777) | 0700) != 0)
        return Error::FromErrno("create directory " + Quote(to));
    } else if (S_ISREG(st.st_mode)) {
      BANGER_RETURN_IF_ERROR(CopyFileContent(from, to, st));
    } else if (S_ISLNK(st.st_mode)) {
      BANGER_ASSIGN_OR_RETURN(std::string target, ReadLink(from, st));
      if (symlink(target.c_str(), to.c_str()) != 0) return Error::FromErrno("create symlink " + Quote(to));
    } else if (!IsSpecialNode(st.st_mode)) {
      return InvalidArgument(Quote(from) + " has an unsupported file type");
    }
    // Devices and FIFOs exist only as metadata; the image builder creates them.
    tree.Set(rel, std::move(meta));
    return OkStatus();
  });
}

Result<std::string> DirTreeDigest(const std::string& source_dir) {
  if (!IsDirectory(source_dir)) return NotFound("directory " + Quote(source_dir) + " does not exist");
  kernel::Sha256 hash;
  Status walked = WalkStaging(source_dir, [&](const std::string& rel, const struct stat& st) -> Status {
    std::string from = JoinPath(source_dir, rel);
    hash.Update(rel);
    std::string fields = std::string(1, '\0') + std::to_string(st.st_mode) + ":" + std::to_string(st.st_uid) + ":" +
                         std::to_string(st.st_gid) + ":" + std::to_string(st.st_rdev) + ":" +
                         std::to_string(st.st_size) + "\n";
    hash.Update(fields);
    BANGER_ASSIGN_OR_RETURN(auto xattrs, ReadXattrs(from));
    for (const auto& [name, value] : xattrs) {
      hash.Update(name + "=" + std::to_string(value.size()) + ":");
      hash.Update(value);
    }
    if (S_ISLNK(st.st_mode)) {
      BANGER_ASSIGN_OR_RETURN(std::string target, ReadLink(from, st));
      hash.Update(target);
    } else if (S_ISREG(st.st_mode)) {
      BANGER_ASSIGN_OR_RETURN(std::string content_digest, kernel::FileSha256(from));
      hash.Update(content_digest);
    }
    return OkStatus();
  });
  if (!walked.ok()) return std::move(walked).error().WithContext("hash " + Quote(source_dir));
  return "sha256:" + hash.HexDigest();
}

Result<std::string> DirSource::Identity(const specs::ImageSpec& spec) {
  auto digest = DirTreeDigest(spec.dir);
  if (!digest.ok()) return std::move(digest).error().WithContext("image " + Quote(spec.name));
  return digest;
}

Status DirSource::Populate(const specs::ImageSpec& spec, RootfsTree& tree,
                           apply::StepProgress& progress) {
  progress.Note("copying " + spec.dir);
  Status st = CopyTreeFromDir(spec.dir, tree);
  if (!st.ok()) return std::move(st).error().WithContext("image " + Quote(spec.name));
  return OkStatus();
}

Status ExtractRootfsTarball(const std::string& archive, RootfsTree& tree,
                            const ExtractLimits& limits) {
  ExtractOptions options;
  options.oci_whiteouts = false;    // a rootfs tarball is one complete layer
  options.keep_device_nodes = true; // /dev/console and friends belong to it
  options.limits = limits;
  ExtractStats stats;
  return ApplyTarball(archive, tree, options, stats);
}

Result<std::string> TarSource::Identity(const specs::ImageSpec& spec) {
  if (!PathExists(spec.tar)) {
    return NotFound("image " + Quote(spec.name) + ": tarball " + Quote(spec.tar) +
                    " does not exist");
  }
  auto digest = kernel::FileSha256(spec.tar);
  if (!digest.ok()) return std::move(digest).error().WithContext("image " + Quote(spec.name));
  return "sha256:" + *digest;
}

Status TarSource::Populate(const specs::ImageSpec& spec, RootfsTree& tree,
                           apply::StepProgress& progress) {
  progress.Note("extracting " + spec.tar);
  Status st = ExtractRootfsTarball(spec.tar, tree, limits_);
  if (!st.ok()) return std::move(st).error().WithContext("image " + Quote(spec.name));
  return OkStatus();
}

void ImageSourceRegistry::Register(specs::ImageSource kind,
                                   std::unique_ptr<ImageSourceBuilder> builder) {
  builders_[kind] = std::move(builder);
}

Result<ImageSourceBuilder*> ImageSourceRegistry::Find(const specs::ImageSpec& spec) const {
  auto it = builders_.find(spec.source);
  if (it == builders_.end()) {
    return Error(Code::kUnavailable, "image " + Quote(spec.name) + ": source " +
                                         Quote(specs::ImageSourceName(spec.source)) +
                                         " is not supported by this build");
  }
  return it->second.get();
}

ImageSourceRegistry BuiltinImageSources(const SourceOptions& options) {
  CommandRunner& runner = options.runner ? *options.runner : SystemRunner();
  ImageSourceRegistry registry;
  registry.Register(specs::ImageSource::kDir, std::make_unique<DirSource>());
  registry.Register(specs::ImageSource::kTar, std::make_unique<TarSource>(options.limits));
  registry.Register(specs::ImageSource::kDebootstrap,
                    std::make_unique<DebootstrapSource>(options.cache_dir, runner, options.limits));
  return registry;
}

}  // namespace banger::image
