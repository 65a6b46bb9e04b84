// manifest.json of a kernel store entry, and the entry's content digest.
//
// The digest covers the stored files only (names, sizes, sha256, link
// targets), not where they came from or when: building the same kernel
// twice, or from two sources that yield identical files, names the same
// store entry. Symbolic links in an entry (a module tree's `build` link)
// are recorded by their target text and never followed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "reconciler/base/error.h"

namespace banger::kernel {

struct ManifestFile {
  std::string path;    // relative to the entry, e.g. "vmlinuz", "modules/virtio.ko"
  std::string sha256;  // of the contents, or of the link target text
  uint64_t size = 0;   // bytes of contents, or of the link target text
  std::string link;    // the target text when the entry is a symlink, else ""

  bool is_link() const { return !link.empty(); }
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

// Every regular file and symlink below `dir`, sorted by relative path.
// Links are read with readlink(2), never followed; other file types fail.
Result<std::vector<ManifestFile>> HashTree(const std::string& dir);

// sha256 over "sha256 size path\n" of each file and "link sha256 size
// path\n" of each symlink, in path order (an entry without links digests
// exactly as before links were recorded).
std::string ContentDigest(const std::vector<ManifestFile>& files);

}  // namespace banger::kernel
