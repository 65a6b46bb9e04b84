// Content digests: "sha256:" followed by 64 lowercase hex digits.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

#include "reconciler/base/error.h"

namespace banger::oci {

// Only sha256 is accepted: it is what registries and the OCI spec require
// implementations to support, and anything else is refused rather than
// trusted unverified.
bool IsValidDigest(std::string_view digest);
// kInvalidArgument naming `what` when the digest is malformed.
Status CheckDigest(std::string_view digest, std::string_view what);

// The 64 hex digits of a valid digest.
std::string_view DigestHex(std::string_view digest);

// Streaming SHA-256.
class Sha256 {
 public:
  Sha256();
  void Update(const void* data, size_t len);
  // "sha256:<hex>"; the hasher is reset afterwards.
  std::string Finish();

 private:
  struct CtxFree {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  std::unique_ptr<EVP_MD_CTX, CtxFree> ctx_;
};

std::string Sha256Digest(std::string_view data);

}  // namespace banger::oci
