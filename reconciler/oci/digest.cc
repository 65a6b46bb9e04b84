#include "reconciler/oci/digest.h"

namespace banger::oci {

namespace {
constexpr std::string_view kPrefix = "sha256:";
}

bool IsValidDigest(std::string_view digest) {
  if (digest.size() != kPrefix.size() + 64 || digest.substr(0, kPrefix.size()) != kPrefix)
    return false;
  for (char c : digest.substr(kPrefix.size()))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

Status CheckDigest(std::string_view digest, std::string_view what) {
  if (IsValidDigest(digest)) return OkStatus();
  return InvalidArgument(std::string(what) + ": digest " + Quote(digest) +
                         " is not sha256: followed by 64 lowercase hex digits");
}

std::string_view DigestHex(std::string_view digest) { return digest.substr(kPrefix.size()); }

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr); }

void Sha256::Update(const void* data, size_t len) { EVP_DigestUpdate(ctx_.get(), data, len); }

std::string Sha256::Finish() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_.get(), md, &len);
  EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string out(kPrefix);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

std::string Sha256Digest(std::string_view data) {
  Sha256 h;
  h.Update(data.data(), data.size());
  return h.Finish();
}

}  // namespace banger::oci
