// A content-addressed blob store in OCI image-layout form under
// <cache>/oci: `oci-layout`, `blobs/sha256/<hex>` and `index.json`, so
// standard tools (skopeo, umoci) can read it.
//
// A blob is written to a temp file in blobs/sha256 and renamed to its
// digest only after its digest and size check out: an interrupted or
// corrupt download never leaves a blob under a digest it does not have.
// Blobs found on disk are re-hashed before they are trusted, and a bad one
// is deleted so the next fetch replaces it. Safe for concurrent writers
// (threads and processes): renames are atomic and index.json is updated
// under a lock.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "reconciler/base/error.h"
#include "reconciler/oci/reference.h"
#include "reconciler/oci/manifest.h"
#include "reconciler/os/unique_fd.h"

namespace banger::oci {

// A blob being written; its temp file is removed unless committed.
class BlobWriter {
 public:
  BlobWriter() = default;
  BlobWriter(BlobWriter&&) noexcept;
  BlobWriter& operator=(BlobWriter&&) noexcept;
  ~BlobWriter();

  Status Write(const char* data, size_t len);
  uint64_t size() const { return size_; }

 private:
  friend class BlobCache;
  BlobWriter(UniqueFd fd, std::string temp_path, Descriptor expected);
  UniqueFd fd_;
  std::string temp_path_;
  Descriptor expected_;
  Sha256 hash_;
  uint64_t size_ = 0;
};

class BlobCache {
 public:
  // Opens (creating if needed) the layout at <cache_dir>/oci.
  static Result<BlobCache> Open(const std::string& cache_dir);

  const std::string& dir() const { return dir_; }
  std::string BlobPath(std::string_view digest) const;

  // Whether the blob is present with the right size and content. A present
  // but wrong blob is removed and reported absent.
  Result<bool> Verify(const Descriptor& blob) const;

  Result<BlobWriter> Begin(const Descriptor& blob) const;
  // Checks digest and size, fsyncs and renames into place.
  Status Commit(BlobWriter writer) const;

  // Stores small content (manifests, configs) whose digest is known.
  Status Put(const Descriptor& blob, std::string_view content) const;
  Result<std::string> Read(const Descriptor& blob) const;

  // Records `manifest` in index.json under the ref name annotation
  // (replacing an entry with the same name).
  Status Tag(const Descriptor& manifest, const std::string& ref_name) const;
  // The manifest descriptor recorded under `ref_name`, if any.
  Result<std::optional<Descriptor>> Lookup(const std::string& ref_name) const;

 private:
  explicit BlobCache(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

}  // namespace banger::oci
