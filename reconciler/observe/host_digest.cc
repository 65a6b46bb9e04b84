#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <climits>
#include <cstdlib>
#include <memory>

#include "reconciler/observe/observer.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/unique_fd.h"

namespace banger::observe {
namespace {

using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

void Feed(EVP_MD_CTX* ctx, std::string_view s) {
  EVP_DigestUpdate(ctx, s.data(), s.size());
  EVP_DigestUpdate(ctx, "\0", 1);
}

Status FeedPath(EVP_MD_CTX* ctx, const std::string& path, const std::string& rel) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return Error::FromErrno("stat " + Quote(path));
  Feed(ctx, rel);
  Feed(ctx, std::to_string(st.st_mode));
  if (S_ISLNK(st.st_mode)) {
    char buf[4096];
    ssize_t n = readlink(path.c_str(), buf, sizeof buf);
    if (n < 0) return Error::FromErrno("readlink " + Quote(path));
    Feed(ctx, std::string_view(buf, static_cast<size_t>(n)));
  } else if (S_ISREG(st.st_mode)) {
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) return Error::FromErrno("open " + Quote(path));
    char buf[65536];
    for (;;) {
      ssize_t n = read(fd.get(), buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Error::FromErrno("read " + Quote(path));
      }
      if (n == 0) break;
      EVP_DigestUpdate(ctx, buf, static_cast<size_t>(n));
    }
  } else if (S_ISDIR(st.st_mode)) {
    BANGER_ASSIGN_OR_RETURN(auto names, ListDir(path));
    for (const auto& name : names)
      BANGER_RETURN_IF_ERROR(FeedPath(ctx, JoinPath(path, name), JoinPath(rel, name)));
  }
  return OkStatus();
}

}  // namespace

Result<std::string> DigestHostPath(const std::string& path) {
  if (!PathExists(path)) return std::string();
  // Dotfiles are often symlinks: the entry means what the link points at.
  char resolved[PATH_MAX];
  if (!realpath(path.c_str(), resolved)) return std::string();
  MdCtx ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  BANGER_RETURN_IF_ERROR(FeedPath(ctx.get(), resolved, "."));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  static const char* hex = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

}  // namespace banger::observe
