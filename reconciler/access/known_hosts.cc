#include "reconciler/access/known_hosts.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "reconciler/os/file_lock.h"
#include "reconciler/os/fs.h"

namespace banger::access {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && IsSpace(line[i])) ++i;
    size_t start = i;
    while (i < line.size() && !IsSpace(line[i])) ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

Result<std::string> DecodeBase64(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0) return InvalidArgument("bad base64 length");
  std::string out(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return InvalidArgument("bad base64");
  // EVP_DecodeBlock counts the bytes '=' padding stands for.
  size_t pad = in.back() == '=' ? (in[in.size() - 2] == '=' ? 2 : 1) : 0;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

// The first name of a known_hosts line's host field: "web.vm" in
// "web.vm,172.30.0.5 ssh-ed25519 ...".
std::string_view FirstHostName(std::string_view line) {
  auto fields = SplitFields(line);
  if (fields.size() < 3 || fields[0].front() == '#' || fields[0].front() == '@') return {};
  std::string_view hosts = fields[0];
  return hosts.substr(0, hosts.find(','));
}

template <typename Fn>
void ForEachLine(std::string_view content, Fn fn) {
  size_t pos = 0;
  while (pos < content.size()) {
    size_t end = content.find('\n', pos);
    size_t next = end == std::string_view::npos ? content.size() : end + 1;
    fn(content.substr(pos, next - pos));  // with its newline, if any
    pos = next;
  }
}

}  // namespace

std::string HostKeyAlias(std::string_view vm) { return std::string(vm) + ".vm"; }

Result<HostKey> ParseHostKey(std::string_view text) {
  auto fields = SplitFields(text);
  if (fields.size() < 2) return InvalidArgument("host key " + Quote(text) + " is not \"<type> <base64>\"");
  HostKey key{std::string(fields[0]), std::string(fields[1]), ""};
  auto blob = DecodeBase64(key.base64);
  if (!blob.ok()) return InvalidArgument("host key " + Quote(text) + ": " + blob.error().message());
  // The blob starts with the key type as an SSH string (u32 length + bytes).
  const std::string& b = *blob;
  if (b.size() < 4) return InvalidArgument("host key " + Quote(text) + " is truncated");
  uint32_t len = (uint32_t(uint8_t(b[0])) << 24) | (uint32_t(uint8_t(b[1])) << 16) |
                 (uint32_t(uint8_t(b[2])) << 8) | uint32_t(uint8_t(b[3]));
  if (b.size() < 4 + size_t(len) || b.compare(4, len, key.type) != 0)
    return InvalidArgument("host key " + Quote(text) + " is not a " + Quote(key.type) + " key");
  key.blob = std::move(blob).value();
  return key;
}

std::string ReplaceVmHostKeys(std::string_view content, std::string_view vm,
                              std::string_view ip, const std::vector<HostKey>& keys) {
  const std::string alias = HostKeyAlias(vm);
  std::string out;
  ForEachLine(content, [&](std::string_view line) {
    if (FirstHostName(line) != alias) out += line;
  });
  if (!keys.empty() && !out.empty() && out.back() != '\n') out += '\n';
  for (const auto& k : keys) {
    out += alias + "," + std::string(ip) + " " + k.type + " " + k.base64 + "\n";
  }
  return out;
}

std::vector<HostKey> PinnedHostKeys(std::string_view content, std::string_view vm) {
  const std::string alias = HostKeyAlias(vm);
  std::vector<HostKey> keys;
  ForEachLine(content, [&](std::string_view line) {
    if (FirstHostName(line) != alias) return;
    auto fields = SplitFields(line);
    auto key = ParseHostKey(std::string(fields[1]) + " " + std::string(fields[2]));
    if (key.ok()) keys.push_back(std::move(key).value());
  });
  return keys;
}

Status KnownHostsFile::Pin(const std::string& vm, const std::string& ip,
                           const std::vector<std::string>& keys) {
  const std::string what = "pin host keys of vm " + Quote(vm);
  unsigned char addr[16];
  if (inet_pton(AF_INET, ip.c_str(), addr) != 1 && inet_pton(AF_INET6, ip.c_str(), addr) != 1)
    return InvalidArgument(what + ": " + Quote(ip) + " is not an IP address");
  if (keys.empty()) return InvalidArgument(what + ": the guest reported no host keys");
  std::vector<HostKey> parsed;
  for (const auto& k : keys) {
    auto key = ParseHostKey(k);
    if (!key.ok()) return std::move(key).error().WithContext(what);
    parsed.push_back(std::move(key).value());
  }
  return Rewrite(vm, ip, parsed);
}

Status KnownHostsFile::Forget(const std::string& vm) { return Rewrite(vm, "", {}); }

Status KnownHostsFile::Rewrite(const std::string& vm, const std::string& ip,
                               const std::vector<HostKey>& keys) {
  BANGER_RETURN_IF_ERROR(MakeDirs(Dirname(path_), 0700));
  BANGER_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(lock_path_));
  std::string content;
  if (PathExists(path_)) {
    BANGER_ASSIGN_OR_RETURN(content, ReadFile(path_));
  } else if (keys.empty()) {
    return OkStatus();
  }
  std::string updated = ReplaceVmHostKeys(content, vm, ip, keys);
  if (updated == content) return OkStatus();
  return AtomicWriteFile(path_, updated, 0600);
}

Result<std::vector<HostKey>> KnownHostsFile::Pinned(const std::string& vm) const {
  if (!PathExists(path_)) return std::vector<HostKey>();
  BANGER_ASSIGN_OR_RETURN(std::string content, ReadFile(path_));
  return PinnedHostKeys(content, vm);
}

}  // namespace banger::access
