// Running Firecracker under its jailer.
//
// The jailer (run as root) creates <chroot_base>/<exec-file name>/<id>/root,
// moves into a fresh chroot there, drops to uid:gid and execs Firecracker,
// whose arguments follow "--". Every path Firecracker is given must then be
// inside that root: the driver hard-links the kernel, initrd and drives in
// (same filesystem required) and hands out in-jail paths.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "reconciler/base/error.h"

namespace banger::vmm {

struct JailerConfig {
  std::string binary;       // the jailer executable
  uid_t uid = 0;
  gid_t gid = 0;
  std::string chroot_base;  // --chroot-base-dir
};

class JailLayout {
 public:
  JailLayout(const JailerConfig& config, const std::string& firecracker_binary,
             const std::string& id);

  // <chroot_base>/<basename(firecracker)>/<id>/root
  const std::string& root() const { return root_; }
  // The host path of a path inside the jail ("/x" -> <root>/x).
  std::string HostPath(const std::string& jail_path) const;

 private:
  std::string root_;
};

// The jailer's ids are 1-64 characters of [A-Za-z0-9-].
Status ValidateJailId(const std::string& id);

// jailer --id ID --exec-file FC --uid U --gid G --chroot-base-dir DIR -- ARGS
Result<std::vector<std::string>> BuildJailerArgv(const JailerConfig& config,
                                                 const std::string& firecracker_binary,
                                                 const std::string& id,
                                                 const std::vector<std::string>& firecracker_args);

// Hard-links `host_path` into the jail root as /<name> and gives it to the
// jail's uid:gid so the dropped Firecracker can open it (the inode is
// shared, so the original changes owner too). Returns the in-jail path.
Result<std::string> StageIntoJail(const JailLayout& layout, const JailerConfig& config,
                                  const std::string& host_path, const std::string& name);

}  // namespace banger::vmm
