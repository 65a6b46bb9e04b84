#include "guest/agent/protocol/messages.h"

#include <arpa/inet.h>

#include <algorithm>
#include <optional>

#include "guest/agent/protocol/frame.h"

namespace banger::agent {
namespace {

class Writer {
 public:
  Writer& U8(uint8_t v) { out_.push_back(static_cast<char>(v)); return *this; }
  Writer& U16(uint16_t v) { return U8(v >> 8).U8(v & 0xff); }
  Writer& U32(uint32_t v) { return U16(v >> 16).U16(v & 0xffff); }
  Writer& U64(uint64_t v) { return U32(v >> 32).U32(v & 0xffffffffu); }
  Writer& Str(std::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    out_.append(s);
    return *this;
  }
  Writer& List(const std::vector<std::string>& l) {
    U32(static_cast<uint32_t>(l.size()));
    for (const auto& s : l) Str(s);
    return *this;
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// Reads fields in order; the first failure sticks and names the field.
class Reader {
 public:
  Reader(std::string_view in, std::string_view what) : in_(in), what_(what) {}

  uint64_t Uint(size_t bytes, std::string_view field) {
    if (!Need(bytes, field)) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(in_[at_ + i]);
    at_ += bytes;
    return v;
  }
  std::string Str(std::string_view field) {
    auto n = static_cast<size_t>(Uint(4, field));
    if (!Need(n, field)) return {};
    std::string s(in_.substr(at_, n));
    at_ += n;
    return s;
  }
  std::vector<std::string> List(std::string_view field) {
    auto n = static_cast<size_t>(Uint(4, field));
    std::vector<std::string> out;
    if (error_) return out;
    if (n > kMaxListEntries) {
      Fail(std::string(field) + " has " + std::to_string(n) + " entries, at most " +
           std::to_string(kMaxListEntries) + " are allowed");
      return out;
    }
    // Each entry needs at least its 4-byte length: a count the payload
    // cannot hold is refused before anything is allocated for it.
    if (n * 4 > in_.size() - at_) {
      Fail(std::string(field) + ": count " + std::to_string(n) + " exceeds the payload");
      return out;
    }
    for (size_t i = 0; i < n && !error_; ++i) out.push_back(Str(field));
    return out;
  }
  void Fail(std::string why) {
    if (!error_) error_ = Error(Code::kCorruption, "agent " + std::string(what_) + ": " + why);
  }
  // Done() checks that nothing is left over.
  Status Done() {
    if (!error_ && at_ != in_.size()) {
      Fail(std::to_string(in_.size() - at_) + " trailing bytes");
    }
    if (error_) return *error_;
    return OkStatus();
  }

 private:
  bool Need(size_t n, std::string_view field) {
    if (error_) return false;
    if (in_.size() - at_ < n) {
      Fail(std::string(field) + " is truncated");
      return false;
    }
    return true;
  }

  std::string_view in_;
  std::string_view what_;
  size_t at_ = 0;
  std::optional<Error> error_;
};

bool HasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

}  // namespace

std::string EncodeHello(const Hello& m) { return Writer().U64(m.nonce).Take(); }

Result<Hello> DecodeHello(std::string_view p) {
  Reader r(p, "hello");
  Hello m{r.Uint(8, "nonce")};
  BANGER_RETURN_IF_ERROR(r.Done());
  return m;
}

std::string EncodeHelloReply(const HelloReply& m) {
  return Writer().U64(m.nonce).Str(m.agent_version).Take();
}

Result<HelloReply> DecodeHelloReply(std::string_view p) {
  Reader r(p, "hello_reply");
  HelloReply m;
  m.nonce = r.Uint(8, "nonce");
  m.agent_version = r.Str("agent_version");
  BANGER_RETURN_IF_ERROR(r.Done());
  return m;
}

std::string EncodeHealthReply(const HealthReply& m) {
  return Writer()
      .Str(m.boot_id)
      .U64(m.uptime_ms)
      .U32(m.load_centi[0])
      .U32(m.load_centi[1])
      .U32(m.load_centi[2])
      .Take();
}

Result<HealthReply> DecodeHealthReply(std::string_view p) {
  Reader r(p, "health_reply");
  HealthReply m;
  m.boot_id = r.Str("boot_id");
  m.uptime_ms = r.Uint(8, "uptime_ms");
  for (auto& l : m.load_centi) l = static_cast<uint32_t>(r.Uint(4, "load"));
  BANGER_RETURN_IF_ERROR(r.Done());
  return m;
}

std::string EncodeExecStart(const ExecStart& m) {
  return Writer()
      .U8(m.pty ? 1 : 0)
      .U16(m.rows)
      .U16(m.cols)
      .Str(m.cwd)
      .List(m.argv)
      .List(m.env)
      .Take();
}

Result<ExecStart> DecodeExecStart(std::string_view p) {
  Reader r(p, "exec_start");
  ExecStart m;
  auto flags = r.Uint(1, "flags");
  m.rows = static_cast<uint16_t>(r.Uint(2, "rows"));
  m.cols = static_cast<uint16_t>(r.Uint(2, "cols"));
  m.cwd = r.Str("cwd");
  m.argv = r.List("argv");
  m.env = r.List("env");
  if (flags > 1) r.Fail("unknown flags " + std::to_string(flags));
  m.pty = flags == 1;
  BANGER_RETURN_IF_ERROR(r.Done());
  if (m.argv.empty()) return InvalidArgument("agent exec_start: argv is empty");
  for (const auto& a : m.argv) {
    if (HasNul(a)) return InvalidArgument("agent exec_start: an argv entry holds a NUL byte");
  }
  if (m.argv[0].empty()) return InvalidArgument("agent exec_start: argv[0] is empty");
  for (const auto& e : m.env) {
    size_t eq = e.find('=');
    if (eq == std::string::npos || eq == 0 || HasNul(e)) {
      return InvalidArgument("agent exec_start: environment entry " + Quote(e) +
                             " is not NAME=value");
    }
  }
  if (!m.cwd.empty() && (m.cwd[0] != '/' || HasNul(m.cwd))) {
    return InvalidArgument("agent exec_start: cwd " + Quote(m.cwd) + " is not an absolute path");
  }
  if (!m.pty && (m.rows != 0 || m.cols != 0)) {
    return InvalidArgument("agent exec_start: a window size without a pty");
  }
  return m;
}

std::string EncodeExit(const ExitStatus& m) {
  return Writer().U8(m.signaled ? 1 : 0).U32(m.code).Take();
}

Result<ExitStatus> DecodeExit(std::string_view p) {
  Reader r(p, "exit");
  auto kind = r.Uint(1, "kind");
  ExitStatus m{kind == 1, static_cast<uint32_t>(r.Uint(4, "code"))};
  if (kind > 1) r.Fail("unknown exit kind " + std::to_string(kind));
  BANGER_RETURN_IF_ERROR(r.Done());
  if (!m.signaled && m.code > 255) {
    return Error(Code::kCorruption, "agent exit: exit code " + std::to_string(m.code) + " > 255");
  }
  if (m.signaled && (m.code == 0 || m.code > 64)) {
    return Error(Code::kCorruption, "agent exit: signal " + std::to_string(m.code) + " out of range");
  }
  return m;
}

std::string EncodeWindowSize(const WindowSize& m) { return Writer().U16(m.rows).U16(m.cols).Take(); }

Result<WindowSize> DecodeWindowSize(std::string_view p) {
  Reader r(p, "resize");
  WindowSize m;
  m.rows = static_cast<uint16_t>(r.Uint(2, "rows"));
  m.cols = static_cast<uint16_t>(r.Uint(2, "cols"));
  BANGER_RETURN_IF_ERROR(r.Done());
  return m;
}

std::string EncodeU32(uint32_t v) { return Writer().U32(v).Take(); }

Result<uint32_t> DecodeU32(std::string_view p, std::string_view what) {
  Reader r(p, what);
  auto v = static_cast<uint32_t>(r.Uint(4, "value"));
  BANGER_RETURN_IF_ERROR(r.Done());
  return v;
}

std::string EncodeString(std::string_view s) { return Writer().Str(s).Take(); }

Result<std::string> DecodeString(std::string_view p, std::string_view what) {
  Reader r(p, what);
  std::string s = r.Str("text");
  BANGER_RETURN_IF_ERROR(r.Done());
  return s;
}

Result<std::string> DecodeDirectory(std::string_view p) {
  BANGER_ASSIGN_OR_RETURN(std::string dir, DecodeString(p, "directory"));
  if (dir.empty() || dir[0] != '/' || HasNul(dir)) {
    return InvalidArgument("agent: directory " + Quote(dir) + " is not an absolute path");
  }
  return dir;
}

std::string EncodeStringList(const std::vector<std::string>& list) {
  return Writer().List(list).Take();
}

Result<std::vector<std::string>> DecodeStringList(std::string_view p, std::string_view what) {
  Reader r(p, what);
  auto list = r.List("entries");
  BANGER_RETURN_IF_ERROR(r.Done());
  return list;
}

Status ExpectEmpty(std::string_view p, std::string_view what) {
  if (!p.empty()) {
    return Error(Code::kCorruption, "agent " + std::string(what) + ": expected no payload, got " +
                                        std::to_string(p.size()) + " bytes");
  }
  return OkStatus();
}

namespace {

bool ValidHostname(std::string_view h) {
  if (h.empty() || h.size() > 63 || h.front() == '-') return false;
  return std::all_of(h.begin(), h.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool ValidMac(std::string_view m) {
  if (m.size() != 17) return false;
  for (size_t i = 0; i < m.size(); ++i) {
    const char c = m[i];
    if (i % 3 == 2) {
      if (c != ':') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  // The first octet's low bit marks multicast, which no NIC may take.
  const int first = std::stoi(std::string(m.substr(0, 2)), nullptr, 16);
  return (first & 1) == 0;
}

bool ValidIpv4(const std::string& a) {
  in_addr addr{};
  return inet_pton(AF_INET, a.c_str(), &addr) == 1;
}

bool ValidCidr(const std::string& c) {
  const size_t slash = c.find('/');
  if (slash == std::string::npos || !ValidIpv4(c.substr(0, slash))) return false;
  const std::string prefix = c.substr(slash + 1);
  if (prefix.empty() || prefix.size() > 2 ||
      !std::all_of(prefix.begin(), prefix.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
    return false;
  const int n = std::stoi(prefix);
  return n >= 1 && n <= 32;
}

}  // namespace

std::string EncodeReidentify(const Reidentify& m) {
  Writer w;
  w.Str(m.hostname)
      .Str(m.mac)
      .Str(m.address)
      .Str(m.gateway)
      .Str(m.dns)
      .Str(m.seed)
      .U32(static_cast<uint32_t>(m.host_keys.size()));
  for (const auto& k : m.host_keys) w.Str(k.type).Str(k.private_key).Str(k.public_key);
  return w.Take();
}

Result<Reidentify> DecodeReidentify(std::string_view p) {
  Reader r(p, "reidentify");
  Reidentify m;
  m.hostname = r.Str("hostname");
  m.mac = r.Str("mac");
  m.address = r.Str("address");
  m.gateway = r.Str("gateway");
  m.dns = r.Str("dns");
  m.seed = r.Str("seed");
  const auto keys = static_cast<size_t>(r.Uint(4, "host_keys"));
  auto bad = [](const std::string& why) {
    return Error(Code::kCorruption, "agent reidentify: " + why);
  };
  if (keys > 3) return bad("host_keys has " + std::to_string(keys) + " entries, at most 3");
  for (size_t i = 0; i < keys; ++i) {
    HostKeyPair k;
    k.type = r.Str("host_keys.type");
    k.private_key = r.Str("host_keys.private_key");
    k.public_key = r.Str("host_keys.public_key");
    m.host_keys.push_back(std::move(k));
  }
  BANGER_RETURN_IF_ERROR(r.Done());
  for (size_t i = 0; i < m.host_keys.size(); ++i) {
    const HostKeyPair& k = m.host_keys[i];
    if (k.type != "rsa" && k.type != "ecdsa" && k.type != "ed25519")
      return bad("host key type " + Quote(k.type) + " is not rsa, ecdsa or ed25519");
    for (size_t j = 0; j < i; ++j)
      if (m.host_keys[j].type == k.type) return bad("host key type " + Quote(k.type) + " given twice");
    if (k.private_key.size() > kMaxHostKeyBytes || k.public_key.size() > kMaxHostKeyBytes)
      return bad(k.type + " host key is over " + std::to_string(kMaxHostKeyBytes) + " bytes");
    if (k.private_key.rfind("-----BEGIN OPENSSH PRIVATE KEY-----", 0) != 0)
      return bad(k.type + " host key is not an OpenSSH private key");
    const size_t nl = k.public_key.find('\n');
    if (k.public_key.empty() || (nl != std::string::npos && nl + 1 != k.public_key.size()) ||
        k.public_key.find('\0') != std::string::npos)
      return bad(k.type + " public host key is not one line");
  }
  if (!ValidHostname(m.hostname))
    return bad("hostname " + Quote(m.hostname) + " is not 1 to 63 of [a-z0-9-]");
  if (!m.address.empty() && !ValidCidr(m.address))
    return bad("address " + Quote(m.address) + " is not an IPv4 address with a prefix length");
  if (!m.address.empty() && !ValidMac(m.mac))
    return bad("mac " + Quote(m.mac) + " is not a unicast MAC address (aa:bb:cc:dd:ee:ff)");
  if (!m.gateway.empty() && !ValidIpv4(m.gateway))
    return bad("gateway " + Quote(m.gateway) + " is not an IPv4 address");
  if (!m.dns.empty() && !ValidIpv4(m.dns))
    return bad("dns " + Quote(m.dns) + " is not an IPv4 address");
  if ((!m.gateway.empty() || !m.dns.empty()) && m.address.empty())
    return bad("gateway and dns need an address");
  if (m.seed.size() < kMinSeedBytes || m.seed.size() > kMaxSeedBytes)
    return bad("seed of " + std::to_string(m.seed.size()) + " bytes; " +
               std::to_string(kMinSeedBytes) + " to " + std::to_string(kMaxSeedBytes) +
               " are needed");
  return m;
}

}  // namespace banger::agent
