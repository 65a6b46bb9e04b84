// SHA-256 digests of byte streams and files (OpenSSL EVP).
//
// Used to verify downloads while they stream, to check cached .debs against
// apt's metadata and to name kernel store entries by content.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "reconciler/base/error.h"

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace banger::kernel {

// Incremental hasher: Update() any number of times, then HexDigest() once.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, size_t size);
  void Update(std::string_view data) { Update(data.data(), data.size()); }
  // Lowercase hex of the digest; the hasher is finished afterwards.
  std::string HexDigest();

 private:
  struct CtxDeleter {
    void operator()(EVP_MD_CTX* ctx) const;
  };
  std::unique_ptr<EVP_MD_CTX, CtxDeleter> ctx_;
};

std::string Sha256Hex(std::string_view data);

// Hashes a file by streaming it; errors name the path.
Result<std::string> FileSha256(const std::string& path);

// Whether `s` is 64 lowercase or uppercase hex digits.
bool IsSha256Hex(std::string_view s);

// Lowercased copy (digests from users and apt may use either case).
std::string LowerHex(std::string_view s);

}  // namespace banger::kernel
