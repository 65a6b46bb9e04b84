#include "specs/value_rules.h"

#include <cctype>
#include <filesystem>
#include <limits>

#include "specs/loader.h"

namespace banger::specs {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }
bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// Whether `s` matches ^[a-z0-9][a-z0-9<rest>]*$ in at most `max_len`
// characters; `rest` is the punctuation allowed after the first character.
bool MatchesIdentifier(std::string_view s, std::string_view rest, size_t max_len) {
  if (s.empty() || s.size() > max_len || !IsLowerAlnum(s[0])) return false;
  for (char c : s.substr(1))
    if (!IsLowerAlnum(c) && rest.find(c) == std::string_view::npos) return false;
  return true;
}

Error Bad(std::string_view what, std::string_view value, std::string_view why) {
  return InvalidArgument("invalid " + std::string(what) + " " + Quote(value) + ": " +
                         std::string(why));
}

// Parses a decimal number in [0, max] that is all of `s`.
bool ParseDecimal(std::string_view s, int max, int* out) {
  if (s.empty() || s.size() > 3) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v > max || (s.size() > 1 && s[0] == '0')) return false;
  *out = v;
  return true;
}

}  // namespace

Status CheckName(std::string_view name) {
  if (MatchesIdentifier(name, "-", 32)) return OkStatus();
  return Bad("name", name,
             "use 1 to 32 lowercase letters, digits and '-', starting with a letter or digit");
}

Status CheckGitRef(std::string_view ref) {
  if (ref.empty() || ref.size() > 255) return Bad("git ref", ref, "must be 1 to 255 characters");
  if (ref[0] == '-') return Bad("git ref", ref, "must not start with '-'");
  for (char c : ref)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f)
      return Bad("git ref", ref, "must not contain spaces or control characters");
  if (ref.find("..") != std::string_view::npos)
    return Bad("git ref", ref, "names a range; give one branch or commit");
  return OkStatus();
}

Status CheckLabelKey(std::string_view key) {
  if (MatchesIdentifier(key, "_.-", 63)) return OkStatus();
  return Bad("label key", key,
             "use 1 to 63 lowercase letters, digits, '_', '.' and '-', starting with a "
             "letter or digit");
}

Status CheckInterfaceName(std::string_view name) {
  if (name.empty() || name.size() > 15)
    return Bad("interface name", name, "must be 1 to 15 characters");
  if (!IsAlnum(name[0]))
    return Bad("interface name", name, "must start with a letter or digit");
  for (char c : name)
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.')
      return Bad("interface name", name, "use only letters, digits, '-', '_' and '.'");
  return OkStatus();
}

Status CheckSubnet(std::string_view cidr) {
  constexpr std::string_view kForm = "expected an IPv4 network such as '172.30.0.0/24'";
  size_t slash = cidr.find('/');
  if (slash == std::string_view::npos) return Bad("subnet", cidr, kForm);
  uint32_t addr = 0;
  std::string_view ip = cidr.substr(0, slash);
  for (int part = 0; part < 4; ++part) {
    size_t dot = part < 3 ? ip.find('.') : ip.size();
    if (dot == std::string_view::npos) return Bad("subnet", cidr, kForm);
    int octet = 0;
    if (!ParseDecimal(ip.substr(0, dot), 255, &octet)) return Bad("subnet", cidr, kForm);
    addr = (addr << 8) | static_cast<uint32_t>(octet);
    ip = part < 3 ? ip.substr(dot + 1) : std::string_view();
  }
  int prefix = 0;
  if (!ParseDecimal(cidr.substr(slash + 1), 32, &prefix)) return Bad("subnet", cidr, kForm);
  if (prefix < 16 || prefix > 29)
    return Bad("subnet", cidr, "the prefix length must be between 16 and 29");
  uint32_t mask = ~uint32_t{0} << (32 - prefix);
  if (addr & ~mask) {
    uint32_t net = addr & mask;
    std::string fixed = std::to_string(net >> 24) + "." + std::to_string((net >> 16) & 255) +
                        "." + std::to_string((net >> 8) & 255) + "." +
                        std::to_string(net & 255) + "/" + std::to_string(prefix);
    return Bad("subnet", cidr, "host bits are set (did you mean " + Quote(fixed) + "?)");
  }
  return OkStatus();
}

Status CheckGuestPath(std::string_view path) {
  std::string_view rest;
  if (path.substr(0, 6) == "/root/") {
    rest = path.substr(6);
  } else if (path.substr(0, 2) == "~/") {
    rest = path.substr(2);
  } else {
    return Bad("guest path", path, "must be under /root (\"/root/...\" or \"~/...\")");
  }
  bool has_component = false;
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view comp = rest.substr(0, slash);
    if (comp == "..") return Bad("guest path", path, "'..' is not allowed");
    // A component made only of dots ("." or "...") does not name anything
    // a user means to sync; requiring another character keeps this rule
    // expressible in the JSON Schema as well.
    if (comp.find_first_not_of('.') != std::string_view::npos) has_component = true;
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  }
  if (!has_component)
    return Bad("guest path", path, "must name something inside /root, not /root itself");
  return OkStatus();
}

Status CheckSha256(std::string_view digest) {
  if (digest.size() != 64) return Bad("sha256", digest, "expected 64 hexadecimal digits");
  for (char c : digest)
    if (!IsHex(c)) return Bad("sha256", digest, "expected 64 hexadecimal digits");
  return OkStatus();
}

Status CheckPackageName(std::string_view name) {
  if (name.size() >= 2 && MatchesIdentifier(name, "+.-", 128)) return OkStatus();
  return Bad("package name", name,
             "use lowercase letters, digits, '+', '.' and '-', starting with a letter or "
             "digit");
}

Status CheckSuite(std::string_view suite) {
  if (!suite.empty() && suite[0] >= 'a' && suite[0] <= 'z' &&
      MatchesIdentifier(suite, "-", 64))
    return OkStatus();
  return Bad("suite", suite, "expected a Debian suite or codename such as 'bookworm'");
}

Status CheckUrl(std::string_view url, bool https_only) {
  std::string_view rest;
  if (url.substr(0, 8) == "https://") {
    rest = url.substr(8);
  } else if (!https_only && url.substr(0, 7) == "http://") {
    rest = url.substr(7);
  } else {
    return Bad("url", url, https_only ? "must start with https://"
                                      : "must start with http:// or https://");
  }
  if (rest.empty() || rest[0] == '/') return Bad("url", url, "has no host");
  for (char c : url)
    if (std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c)))
      return Bad("url", url, "must not contain spaces");
  return OkStatus();
}

Status CheckOciReference(std::string_view ref) {
  constexpr std::string_view kForm =
      "expected [registry/]repository[:tag][@digest], e.g. 'docker.io/library/debian:bookworm'";
  if (ref.empty() || !IsAlnum(ref[0])) return Bad("OCI reference", ref, kForm);
  for (char c : ref)
    if (!IsAlnum(c) && std::string_view("._-/:@").find(c) == std::string_view::npos)
      return Bad("OCI reference", ref, kForm);
  if (ref.back() == ':' || ref.back() == '/' || ref.back() == '@')
    return Bad("OCI reference", ref, kForm);
  return OkStatus();
}

Status CheckPlatform(std::string_view platform) {
  int parts = 1;
  bool ok = !platform.empty() && platform.front() != '/' && platform.back() != '/';
  for (size_t i = 0; ok && i < platform.size(); ++i) {
    char c = platform[i];
    if (c == '/') {
      ok = platform[i - 1] != '/';
      ++parts;
    } else if (!IsLowerAlnum(c) && c != '_') {
      ok = false;
    }
  }
  if (ok && (parts == 2 || parts == 3)) return OkStatus();
  return Bad("platform", platform, "expected 'os/arch' or 'os/arch/variant', e.g. 'linux/amd64'");
}

Status CheckCatalogName(std::string_view name) {
  if (MatchesIdentifier(name, "._-", 64)) return OkStatus();
  return Bad("catalog entry", name,
             "use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit");
}

Result<uint32_t> ParseMode(std::string_view octal) {
  bool ok = !octal.empty() && octal.size() <= 4;
  uint32_t mode = 0;
  for (char c : octal) {
    if (c < '0' || c > '7') ok = false;
    mode = mode * 8 + static_cast<uint32_t>(c - '0');
  }
  if (!ok || mode > 0777)
    return Bad("mode", octal, "expected octal permission digits from '0000' to '0777', e.g. '0600'");
  return mode;
}

Result<uint32_t> CheckMode(int64_t mode) {
  if (mode < 0 || mode > 0777)
    return Bad("mode", std::to_string(mode),
               "must be between 0 and 0o777; write octal modes as a string \"0600\" or as 0o600");
  return static_cast<uint32_t>(mode);
}

std::string ResolveHostPath(const std::string& path, const std::string& base_dir) {
  if (path.empty() || path[0] == '/' || path[0] == '~') return path;
  return (std::filesystem::path(base_dir) / path).lexically_normal().string();
}

namespace {

// Size strings: a whole number of bytes with an optional binary unit.
// Fractions and spaces are refused rather than rounded, so the size a user
// reads in the file is exactly the size banger allocates.
constexpr std::string_view kUnitHelp =
    "use a whole number of bytes with an optional unit K, M, G, T (or KiB, MiB, "
    "GiB, TiB), e.g. '512M' or '2G'";

Error BadSize(std::string_view text, std::string_view why) {
  return InvalidArgument("invalid size " + Quote(text) + ": " + std::string(why));
}

// Shift for a unit suffix (case-insensitive), or -1 when not a unit.
int UnitShift(std::string_view unit) {
  std::string u;
  for (char c : unit) u += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (u.empty()) return 0;
  if (u.size() == 3 && u.substr(1) == "IB") u.resize(1);
  if (u.size() != 1) return -1;
  switch (u[0]) {
    case 'K': return 10;
    case 'M': return 20;
    case 'G': return 30;
    case 'T': return 40;
  }
  return -1;
}

}  // namespace

Result<uint64_t> ParseSize(std::string_view text) {
  if (text.empty()) return BadSize(text, "empty; " + std::string(kUnitHelp));
  if (text.front() == '-') return BadSize(text, "sizes cannot be negative");
  size_t i = 0;
  uint64_t number = 0;
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (number > (kMax - digit) / 10) return BadSize(text, "too large");
    number = number * 10 + digit;
    ++i;
  }
  if (i == 0) return BadSize(text, std::string("expected a number; ") + std::string(kUnitHelp));
  std::string_view unit = text.substr(i);
  if (!unit.empty() && unit.front() == '.')
    return BadSize(text, "fractions are not allowed; use a smaller unit, e.g. '1536M' for 1.5G");
  std::string_view spelled = unit;
  while (!spelled.empty() && std::isspace(static_cast<unsigned char>(spelled.front())))
    spelled.remove_prefix(1);
  int shift = UnitShift(spelled);
  bool spaced = spelled.size() != unit.size();
  if (shift < 0 || spaced) {
    if (shift > 0 || (shift == 0 && spelled.empty()))
      return BadSize(text, "no space is allowed before the unit; write " +
                               Quote(std::string(text.substr(0, i)) + std::string(spelled)));
    return BadSize(text, "unknown unit " + Quote(spelled) + "; " + std::string(kUnitHelp));
  }
  if (shift > 0 && number > (kMax >> shift)) return BadSize(text, "too large");
  return number << shift;
}

std::string FormatSize(uint64_t bytes) {
  static constexpr struct { int shift; char unit; } kUnits[] = {
      {40, 'T'}, {30, 'G'}, {20, 'M'}, {10, 'K'}};
  if (bytes == 0) return "0";
  for (const auto& u : kUnits) {
    uint64_t scale = uint64_t{1} << u.shift;
    if (bytes % scale == 0) return std::to_string(bytes / scale) + u.unit;
  }
  return std::to_string(bytes);
}

}  // namespace banger::specs
