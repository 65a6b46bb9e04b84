// manifest.json of a kernel store entry, and the entry's content digest.
//
// The digest covers the stored files only (names, sizes, sha256), not where
// they came from or when: building the same kernel twice, or from two
// sources that yield identical files, names the same store entry.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "reconciler/base/error.h"

namespace banger::kernel {

struct ManifestFile {
  std::string path;    // relative to the entry, e.g. "vmlinuz", "modules/virtio.ko"
  std::string sha256;
  uint64_t size = 0;
};

struct KernelManifest {
  std::string version;     // kernel release, "unknown" when it cannot be read
  std::string source;      // e.g. "deb linux-image-6.1.0-56-cloud-amd64 (6.1.192-2)"
  int64_t created_unix = 0;
  std::vector<ManifestFile> files;  // sorted by path

  const ManifestFile* Find(std::string_view path) const;
};

std::string ManifestJson(const KernelManifest& manifest);
Result<KernelManifest> ParseManifest(std::string_view json, const std::string& origin);

// Every regular file below `dir` (symlinks are not followed or listed),
// sorted by relative path.
Result<std::vector<ManifestFile>> HashTree(const std::string& dir);

// sha256 over "sha256 size path\n" of each file in path order.
std::string ContentDigest(const std::vector<ManifestFile>& files);

}  // namespace banger::kernel
