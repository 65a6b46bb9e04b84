#include "reconciler/kernel/digest.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cctype>

#include "reconciler/os/unique_fd.h"

namespace banger::kernel {

void Sha256::CtxDeleter::operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  // Allocation or init failure of the default SHA-256 leaves ctx_ null;
  // HexDigest() then returns "" which never matches an expected digest.
  if (ctx_ && EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) ctx_.reset();
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::Update(const void* data, size_t size) {
  if (ctx_ && size > 0 && EVP_DigestUpdate(ctx_.get(), data, size) != 1) ctx_.reset();
}

std::string Sha256::HexDigest() {
  if (!ctx_) return "";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  bool ok = EVP_DigestFinal_ex(ctx_.get(), md, &len) == 1;
  ctx_.reset();
  if (!ok) return "";
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.HexDigest();
}

Result<std::string> FileSha256(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Error::FromErrno("open " + Quote(path));
  Sha256 h;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno("read " + Quote(path));
    }
    if (n == 0) break;
    h.Update(buf, static_cast<size_t>(n));
  }
  std::string hex = h.HexDigest();
  if (hex.empty()) return Internal("sha256 of " + Quote(path) + ": OpenSSL digest failed");
  return hex;
}

bool IsSha256Hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::string LowerHex(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace banger::kernel
