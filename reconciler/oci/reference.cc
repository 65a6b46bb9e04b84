#include <cstdlib>
#include "reconciler/oci/reference.h"

#include <arpa/inet.h>

#include <vector>


namespace banger::oci {

namespace {

constexpr std::string_view kDockerHub = "docker.io";
constexpr std::string_view kPrefix = "sha256:";

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// One path component: [a-z0-9]+ joined by '.', '_', '__' or runs of '-'.
bool IsValidComponent(std::string_view c) {
  if (c.empty() || !IsLowerAlnum(c.front()) || !IsLowerAlnum(c.back())) return false;
  for (size_t i = 0; i < c.size(); ++i) {
    char ch = c[i];
    if (IsLowerAlnum(ch)) continue;
    if (ch == '.' || ch == '_') {
      if (!IsLowerAlnum(c[i - 1])) return false;
      size_t run = 1;
      while (i + run < c.size() && c[i + run] == ch) ++run;
      if ((ch == '.' && run > 1) || (ch == '_' && run > 2)) return false;
      if (!IsLowerAlnum(c[i + run])) return false;
      i += run - 1;
      continue;
    }
    if (ch == '-' && (c[i + 1] == '-' || IsLowerAlnum(c[i + 1]))) continue;
    return false;
  }
  return true;
}

bool IsValidTag(std::string_view t) {
  if (t.empty() || t.size() > 128) return false;
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    bool word = IsLowerAlnum(c) || (c >= 'A' && c <= 'Z') || c == '_';
    if (!word && (i == 0 || (c != '.' && c != '-'))) return false;
  }
  return true;
}

bool IsValidRegistry(std::string_view r) {
  if (r.empty()) return false;
  for (char c : r)
    if (!(IsLowerAlnum(c) || (c >= 'A' && c <= 'Z') || c == '.' || c == '-' || c == ':' ||
          c == '[' || c == ']'))
      return false;
  return true;
}

// "host:port", "[::1]:5000", "host" -> host.
std::string_view HostOf(std::string_view registry) {
  if (!registry.empty() && registry.front() == '[') {
    size_t end = registry.find(']');
    return end == std::string_view::npos ? registry : registry.substr(1, end - 1);
  }
  size_t colon = registry.rfind(':');
  return colon == std::string_view::npos ? registry : registry.substr(0, colon);
}

}  // namespace

std::string Reference::ToString() const {
  std::string s = registry + "/" + repository;
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

Result<Reference> ParseReference(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument("image reference " + Quote(text) + ": " + why);
  };
  if (text.empty()) return bad("empty");
  if (text.size() > 512) return bad("too long");
  Reference ref;
  std::string_view rest = text;
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    ref.digest = std::string(rest.substr(at + 1));
    if (!IsValidDigest(ref.digest))
      return bad("digest must be sha256: followed by 64 lowercase hex digits");
    rest = rest.substr(0, at);
  }
  // A tag is a ':' after the last '/', so "host:5000/name" is not a tag.
  size_t last_slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos &&
      (last_slash == std::string_view::npos || colon > last_slash)) {
    ref.tag = std::string(rest.substr(colon + 1));
    if (!IsValidTag(ref.tag)) return bad("invalid tag " + Quote(ref.tag));
    rest = rest.substr(0, colon);
  }
  std::string_view name = rest;
  size_t first_slash = name.find('/');
  if (first_slash != std::string_view::npos) {
    std::string_view first = name.substr(0, first_slash);
    if (first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos ||
        first == "localhost") {
      ref.registry = std::string(first);
      name = name.substr(first_slash + 1);
    }
  }
  if (ref.registry.empty()) ref.registry = std::string(kDockerHub);
  if (ref.registry == "index.docker.io" || ref.registry == "registry-1.docker.io")
    ref.registry = std::string(kDockerHub);
  if (!IsValidRegistry(ref.registry)) return bad("invalid registry " + Quote(ref.registry));
  ref.repository = std::string(name);
  if (ref.registry == kDockerHub && ref.repository.find('/') == std::string::npos)
    ref.repository = "library/" + ref.repository;
  if (ref.repository.size() > 255) return bad("repository name too long");
  size_t start = 0;
  while (start <= ref.repository.size()) {
    size_t end = ref.repository.find('/', start);
    if (end == std::string::npos) end = ref.repository.size();
    std::string_view comp(ref.repository.data() + start, end - start);
    if (!IsValidComponent(comp))
      return bad("invalid repository component " + Quote(comp) +
                 " (lowercase letters, digits and separators)");
    start = end + 1;
  }
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

std::string DefaultImageName(const Reference& ref) {
  std::string base = ref.repository.substr(ref.repository.rfind('/') + 1);
  std::string suffix =
      !ref.tag.empty() ? ref.tag : std::string(DigestHex(ref.digest).substr(0, 12));
  std::string raw = base + "-" + suffix;
  std::string out;
  for (char c : raw) {
    char l = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    char keep = IsLowerAlnum(l) ? l : '-';
    if (keep == '-' && (out.empty() || out.back() == '-')) continue;
    out.push_back(keep);
  }
  if (out.size() > 32) out.resize(32);
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "image" : out;
}

bool IsLoopbackRegistry(std::string_view registry) {
  std::string host(HostOf(registry));
  if (host == "localhost") return true;
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6;
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

std::string RegistryApiHost(std::string_view registry) {
  if (registry == kDockerHub) return "registry-1.docker.io";
  return std::string(registry);
}

Result<RegistryMirrors> ParseRegistryMirrors(std::string_view text) {
  RegistryMirrors out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view item = text.substr(pos, end - pos);
    pos = end + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == item.size())
      return InvalidArgument("registry mirror " + Quote(item) +
                             ": expected REGISTRY=HOST[:PORT], e.g. docker.io=127.0.0.1:5000");
    std::string mirror(item.substr(eq + 1));
    if (mirror.find_first_of("/ \t@") != std::string::npos)
      return InvalidArgument("registry mirror " + Quote(item) + ": the mirror is a HOST[:PORT]");
    out[std::string(item.substr(0, eq))] = mirror;
  }
  return out;
}

Result<RegistryMirrors> RegistryMirrorsFromEnvironment() {
  const char* value = std::getenv("BANGER_REGISTRY_MIRRORS");
  if (!value || !*value) return RegistryMirrors{};
  auto mirrors = ParseRegistryMirrors(value);
  if (!mirrors.ok()) return mirrors.error().WithContext("$BANGER_REGISTRY_MIRRORS");
  return mirrors;
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
