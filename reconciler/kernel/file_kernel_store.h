// The kernel store: content-addressed directories of boot artifacts.
//
//   <kernels_dir>/<sha256>/vmlinuz       always
//                         /vmlinux       when the kernel is or holds an ELF
//                         /initrd.img    given, or generated for module kernels
//                         /modules/      when modules were kept
//                         /manifest.json version, source, each file's sha256/size
//
// An entry is assembled in a private staging directory and published with
// one rename, so the store only ever holds complete entries; when an entry
// with the same digest exists it is reused. Downloads are cached under
// <cache_dir>/downloads (by sha256) and <cache_dir>/debs (apt's file names),
// and only after their digest was verified.
#pragma once

#include <string>
#include <vector>

#include "reconciler/apply/effects.h"
#include "reconciler/kernel/kernel_manifest.h"
#include "reconciler/os/exec.h"

namespace banger::kernel {

// A store entry as `banger kernel list/show` present it.
struct StoredKernel {
  std::string digest;
  std::string dir;
  KernelManifest manifest;
};

// Paths a VMM boots from ("" for files the entry does not have).
struct KernelBootFiles {
  std::string vmlinuz;
  std::string vmlinux;
  std::string initrd;
};
KernelBootFiles BootFiles(const model::KernelRecord& record);

class FileKernelStore : public apply::KernelStore {
 public:
  FileKernelStore(std::string kernels_dir, std::string staging_dir, std::string cache_dir,
                  CommandRunner& runner);

  Result<model::KernelRecord> Build(const specs::KernelSpec& spec,
                                    const specs::Settings& settings,
                                    apply::StepProgress& progress) override;
  Status Remove(const model::KernelRecord& record) override;
  bool Present(const model::KernelRecord& record) override;

  // Name prefixes of the per-process directories a build makes in the
  // staging dir and the download/deb caches ("<prefix><pid>.XXXXXX", see
  // os/owned_dir.h), for the sweep of leftovers from dead processes.
  static std::vector<std::string> StagingPrefixes();
  static std::vector<std::string> CachePrefixes();

  // Every complete entry, newest first.
  Result<std::vector<StoredKernel>> List() const;
  // The entry whose digest is `digest` or starts with it (at least 8 hex
  // digits; ambiguous prefixes fail).
  Result<StoredKernel> Show(const std::string& digest) const;

  const std::string& kernels_dir() const { return kernels_dir_; }

 private:
  Result<StoredKernel> ReadEntry(const std::string& digest) const;
  Result<model::KernelRecord> Publish(const specs::KernelSpec& spec, const std::string& out,
                                      const std::string& version, const std::string& source);

  std::string kernels_dir_;
  std::string staging_dir_;
  std::string cache_dir_;
  CommandRunner& runner_;
};

}  // namespace banger::kernel
