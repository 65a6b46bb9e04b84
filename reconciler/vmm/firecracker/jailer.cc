#include "reconciler/vmm/firecracker/jailer.h"

#include <unistd.h>

#include <cctype>
#include <cerrno>

#include "reconciler/os/fs.h"

namespace banger::vmm {

JailLayout::JailLayout(const JailerConfig& config, const std::string& firecracker_binary,
                       const std::string& id)
    : root_(JoinPath(JoinPath(JoinPath(config.chroot_base, Basename(firecracker_binary)), id),
                     "root")) {}

std::string JailLayout::HostPath(const std::string& jail_path) const {
  return JoinPath(root_, jail_path);
}

Status ValidateJailId(const std::string& id) {
  bool ok = !id.empty() && id.size() <= 64;
  for (char c : id) ok = ok && (isalnum(static_cast<unsigned char>(c)) || c == '-');
  if (!ok) return InvalidArgument("jailer id " + Quote(id) + ": use 1-64 letters, digits or '-'");
  return OkStatus();
}

Result<std::vector<std::string>> BuildJailerArgv(const JailerConfig& config,
                                                 const std::string& firecracker_binary,
                                                 const std::string& id,
                                                 const std::vector<std::string>& firecracker_args) {
  BANGER_RETURN_IF_ERROR(ValidateJailId(id));
  if (config.binary.empty()) return InvalidArgument("jailer: no binary configured");
  if (config.chroot_base.empty() || config.chroot_base[0] != '/')
    return InvalidArgument("jailer: chroot base " + Quote(config.chroot_base) + " must be absolute");
  if (firecracker_binary.empty() || firecracker_binary[0] != '/')
    return InvalidArgument("jailer: firecracker path " + Quote(firecracker_binary) + " must be absolute");
  std::vector<std::string> argv = {config.binary,
                                   "--id", id,
                                   "--exec-file", firecracker_binary,
                                   "--uid", std::to_string(config.uid),
                                   "--gid", std::to_string(config.gid),
                                   "--chroot-base-dir", config.chroot_base,
                                   "--"};
  argv.insert(argv.end(), firecracker_args.begin(), firecracker_args.end());
  return argv;
}

Result<std::string> StageIntoJail(const JailLayout& layout, const JailerConfig& config,
                                  const std::string& host_path, const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    return InvalidArgument("jail: invalid file name " + Quote(name));
  const std::string jail_path = "/" + name;
  const std::string target = layout.HostPath(jail_path);
  BANGER_RETURN_IF_ERROR(MakeDirs(layout.root(), 0755));
  if (unlink(target.c_str()) != 0 && errno != ENOENT)
    return Error::FromErrno("jail: remove " + Quote(target));
  if (link(host_path.c_str(), target.c_str()) != 0) {
    if (errno == EXDEV) {
      return Error(Code::kFailedPrecondition,
                   "jail: link " + Quote(host_path) + " into " + Quote(layout.root()) +
                       ": not on the same filesystem as the chroot base",
                   EXDEV);
    }
    return Error::FromErrno("jail: link " + Quote(host_path) + " to " + Quote(target));
  }
  if (lchown(target.c_str(), config.uid, config.gid) != 0)
    return Error::FromErrno("jail: chown " + Quote(target));
  return jail_path;
}

}  // namespace banger::vmm
