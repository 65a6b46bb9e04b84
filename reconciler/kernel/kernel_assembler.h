// Turns a kernel source (Debian package, local files, bundle) into the
// files of a store entry, inside a staging directory.
//
// The layout it produces is the store's: `vmlinuz` always, `vmlinux` when
// the kernel is (or contains) an ELF image, `initrd.img` when one was given
// or generated, `modules/` when modules were kept. Generating an initramfs
// needs a static busybox, which comes from Debian's busybox-static.
#pragma once

#include <functional>
#include <string>

#include "reconciler/base/error.h"
#include "reconciler/kernel/debian_packages.h"
#include "reconciler/kernel/kernel_modules.h"

namespace banger::kernel {

struct KernelInputs {
  std::string kernel;       // bzImage / vmlinuz (or an ELF vmlinux)
  std::string initrd;       // optional: used as is
  std::string modules_dir;  // optional: kept, and the initramfs is built from it
  std::string vmlinux;      // optional: used instead of extracting one
};

struct AssembledKernel {
  std::string version;   // kernel release, or "unknown"
};

class KernelAssembler {
 public:
  using Note = std::function<void(const std::string&)>;

  // `scratch` is a private directory for unpacking; `out` receives the
  // store entry's files.
  KernelAssembler(DebianPackages& packages, std::string scratch, std::string out, Note note)
      : packages_(packages), scratch_(std::move(scratch)), out_(std::move(out)),
        note_(std::move(note)) {}

  // Local files or an extracted bundle. Without initrd but with modules,
  // an initramfs is generated from those modules.
  Result<AssembledKernel> FromFiles(const KernelInputs& inputs);

  // An unpacked-by-us Debian kernel package: vmlinuz, the guest modules
  // (kept under modules/) and a generated initramfs.
  Result<AssembledKernel> FromDeb(const std::string& deb_path);

 private:
  Status WriteGeneratedInitramfs(const std::vector<GuestModule>& modules);
  Status PlaceKernel(const std::string& kernel, const std::string& vmlinux,
                     std::string* version);

  DebianPackages& packages_;
  std::string scratch_;
  std::string out_;
  Note note_;
};

// Copies a regular file (contents and permission bits 0644).
Status CopyFile(const std::string& from, const std::string& to);

}  // namespace banger::kernel
