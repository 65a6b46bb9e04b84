// Typed payloads of the agent protocol (see frame.h for the framing).
//
// Payload encoding: integers big endian; a string is a u32 length and the
// bytes; a list is a u32 count and its strings. Decode* functions are
// strict: every byte must be consumed, counts and lengths are bounded, and
// each field is validated (an argv is non-empty, an environment entry is
// NAME=value, paths are absolute, no string holds a NUL byte where the OS
// would cut it) before the agent acts on it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "reconciler/base/error.h"

namespace banger::agent {

// At most this many argv or environment entries in one ExecStart.
inline constexpr size_t kMaxListEntries = 4096;

struct Hello {
  uint64_t nonce = 0;
};

struct HelloReply {
  uint64_t nonce = 0;
  std::string agent_version;
};

struct HealthReply {
  std::string boot_id;      // /proc/sys/kernel/random/boot_id
  uint64_t uptime_ms = 0;   // /proc/uptime
  uint32_t load_centi[3] = {0, 0, 0};  // 1, 5, 15 minute load averages x100
};

struct ExecStart {
  std::vector<std::string> argv;  // argv[0] is looked up on PATH when it has no '/'
  std::vector<std::string> env;   // NAME=value, added over the agent's base environment
  std::string cwd;                // empty: "/"
  bool pty = false;               // one terminal for stdin/stdout (stderr joins stdout)
  uint16_t rows = 0;              // window size when pty
  uint16_t cols = 0;
};

struct ExitStatus {
  bool signaled = false;  // true: `code` is the signal number
  uint32_t code = 0;
};

struct WindowSize {
  uint16_t rows = 0;
  uint16_t cols = 0;
};

// An SSH host key pair made by the host (a guest CPU under emulation takes
// tens of seconds for an RSA key).
struct HostKeyPair {
  std::string type;         // "rsa" | "ecdsa" | "ed25519": /etc/ssh/ssh_host_<type>_key
  std::string private_key;  // OpenSSH private key file, unencrypted
  std::string public_key;   // one "type base64 comment" line
};

// Gives a guest restored from a snapshot its own identity: everything that
// was its source VM's and must differ per VM.
struct Reidentify {
  std::string hostname;  // 1 to 63 of [a-z0-9-], not starting with '-'
  std::string mac;       // the NIC's new address, "52:54:00:12:34:56" (unicast)
  std::string address;   // "A.B.C.D/PREFIX"; empty: no network, mac ignored
  std::string gateway;   // "A.B.C.D" or empty
  std::string dns;       // "A.B.C.D" or empty
  std::string seed;      // host randomness mixed into the guest's RNG
  // The guest's new SSH host keys; empty: the guest makes them (ssh-keygen -A).
  std::vector<HostKeyPair> host_keys;
};

// Bounds of Reidentify::seed: enough to reseed, small enough to be a request.
inline constexpr size_t kMinSeedBytes = 32;
inline constexpr size_t kMaxSeedBytes = 512;
// Bounds of Reidentify::host_keys: one per type, each file well under this.
inline constexpr size_t kMaxHostKeyBytes = 16 * 1024;

std::string EncodeReidentify(const Reidentify& m);
Result<Reidentify> DecodeReidentify(std::string_view p);

std::string EncodeHello(const Hello& m);
Result<Hello> DecodeHello(std::string_view p);

std::string EncodeHelloReply(const HelloReply& m);
Result<HelloReply> DecodeHelloReply(std::string_view p);

std::string EncodeHealthReply(const HealthReply& m);
Result<HealthReply> DecodeHealthReply(std::string_view p);

std::string EncodeExecStart(const ExecStart& m);
Result<ExecStart> DecodeExecStart(std::string_view p);

std::string EncodeExit(const ExitStatus& m);
Result<ExitStatus> DecodeExit(std::string_view p);

std::string EncodeWindowSize(const WindowSize& m);
Result<WindowSize> DecodeWindowSize(std::string_view p);

// One u32 (a PID, a signal number).
std::string EncodeU32(uint32_t v);
Result<uint32_t> DecodeU32(std::string_view p, std::string_view what);

// A single string (an error message, a directory for put/get).
std::string EncodeString(std::string_view s);
Result<std::string> DecodeString(std::string_view p, std::string_view what);

// A directory for put/get: absolute, no NUL.
Result<std::string> DecodeDirectory(std::string_view p);

std::string EncodeStringList(const std::vector<std::string>& list);
Result<std::vector<std::string>> DecodeStringList(std::string_view p, std::string_view what);

// An empty payload, as the types without fields require.
Status ExpectEmpty(std::string_view p, std::string_view what);

}  // namespace banger::agent
