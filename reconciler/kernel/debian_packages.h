// Kernel and busybox packages from the host's Debian archive, through apt.
//
// `apt-get download` fetches a .deb without installing it and works
// unprivileged; `dpkg-deb -x` unpacks one anywhere. Downloads are cached by
// file name in a debs directory and reused only while their sha256 still
// matches apt's metadata, so an archive update or a damaged file causes a
// fresh download rather than a stale or broken kernel.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "reconciler/base/error.h"
#include "reconciler/os/exec.h"

namespace banger::kernel {

// Prefix of the per-process directory a download runs in, inside debs_dir.
inline constexpr char kAptDownloadPrefix[] = ".apt-";

struct AptPackageFile {
  std::string uri;       // where apt would fetch it from
  std::string filename;  // the name apt-get download writes
  uint64_t size = 0;
  std::string sha256;    // lowercase hex
};

// Parses one line of `apt-get download --print-uris PKG`:
//   'http://deb.debian.org/.../x_1.0_amd64.deb' x_1.0_amd64.deb 1234 SHA256:ab..
Result<AptPackageFile> ParsePrintUris(std::string_view output, const std::string& package);

// From `apt-cache show --no-all-versions PKG` output: the concrete
// linux-image-<version>-<flavour> a metapackage depends on, or "" when the
// package has no such dependency (it is concrete itself).
std::string KernelImageDependency(std::string_view apt_cache_show);

class DebianPackages {
 public:
  // `debs_dir` caches downloaded .deb files (created on demand).
  DebianPackages(CommandRunner& runner, std::string debs_dir)
      : runner_(runner), debs_dir_(std::move(debs_dir)) {}

  // linux-image-cloud-amd64 -> linux-image-6.1.0-56-cloud-amd64; a concrete
  // name is returned unchanged.
  Result<std::string> ResolveKernelPackage(const std::string& package);

  // The verified .deb of `package` in the cache, downloaded when missing
  // or when the cached copy no longer matches apt's sha256.
  Result<std::string> Fetch(const std::string& package);

  // dpkg-deb -x deb dest
  Status Unpack(const std::string& deb, const std::string& dest);

  // A static busybox binary from busybox-static, unpacked below `scratch`.
  Result<std::string> StaticBusybox(const std::string& scratch);

 private:
  Result<AptPackageFile> DownloadInfo(const std::string& package);

  CommandRunner& runner_;
  std::string debs_dir_;
};

}  // namespace banger::kernel
