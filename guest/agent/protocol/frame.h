// The guest agent's wire format: length-prefixed frames on a byte stream.
//
// A virtio-serial port and a vsock connection are plain byte streams, so
// every frame carries its own length. The fixed 16-byte header is
//
//   0..2   magic "BGA"
//   3      protocol version (kAgentProtocolVersion)
//   4      message type (MsgType)
//   5..7   reserved, zero
//   8..11  channel, big endian (0: the connection itself; else one exec,
//          put or get started by the host, numbered by the host)
//   12..15 payload length, big endian, at most kMaxPayload
//
// Decoding is strict: a wrong magic, another version, an unknown type,
// non-zero reserved bytes or an oversized length is an error, never skipped
// over. Both ends then drop what they were doing on that stream; the host
// closes it, the agent resynchronises on the next Hello (see FrameDecoder).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "reconciler/base/error.h"

namespace banger::agent {

// Bumped on any incompatible change of the header or of a message's payload.
inline constexpr uint8_t kAgentProtocolVersion = 1;
inline constexpr size_t kHeaderSize = 16;
inline constexpr size_t kMaxPayload = 64 * 1024;

enum class MsgType : uint8_t {
  kHello = 1,           // host -> agent: u64 nonce; starts (or restarts) a connection
  kHelloReply = 2,      // agent -> host: u64 nonce, string agent version
  kHealth = 3,          // host -> agent: empty
  kHealthReply = 4,     // agent -> host: HealthReply
  kExecStart = 5,       // host -> agent, new channel: ExecStart
  kExecStarted = 6,     // agent -> host: u32 pid
  kStdin = 7,           // host -> agent: raw bytes
  kStdinClose = 8,      // host -> agent: empty; the process sees EOF
  kStdout = 9,          // agent -> host: raw bytes
  kStderr = 10,         // agent -> host: raw bytes
  kSignal = 11,         // host -> agent: u32 signal number
  kResize = 12,         // host -> agent: u16 rows, u16 cols (PTY only)
  kExit = 13,           // agent -> host: ExitStatus; the channel is finished
  kError = 14,          // agent -> host: string; the channel (0: the connection) failed
  kPutStart = 15,       // host -> agent, new channel: string directory
  kGetStart = 16,       // host -> agent, new channel: string directory
  kData = 17,           // either way: raw bytes of a tar stream
  kDataEnd = 18,        // either way: empty; the tar stream is complete
  kDone = 19,           // agent -> host: empty; a put finished
  kHostKeys = 20,       // host -> agent: empty
  kHostKeysReply = 21,  // agent -> host: list of "type base64" lines
  kReidentify = 22,     // host -> agent: Reidentify (a guest restored from a snapshot)
  kReidentifyReply = 23,  // agent -> host: list of the new "type base64" host keys
};

// The lowest and highest MsgType value; anything outside is unknown.
inline constexpr uint8_t kMinMsgType = 1;
inline constexpr uint8_t kMaxMsgType = 23;

std::string_view MsgTypeName(MsgType type);

struct Frame {
  MsgType type = MsgType::kHello;
  uint32_t channel = 0;
  std::string payload;
};

// The header followed by `payload`. Fails (kInternal) when the payload is
// larger than kMaxPayload: callers split their data first.
Result<std::string> EncodeFrame(MsgType type, uint32_t channel, std::string_view payload);

// Checks a 16-byte header; returns the payload length it announces.
Result<uint32_t> DecodeHeader(std::string_view header, MsgType& type, uint32_t& channel);

// Cuts frames out of a byte stream fed in arbitrary pieces.
//
// After an error, Next() keeps failing until Resync() is called; Resync()
// then drops bytes until a header that decodes as a Hello, which is how a
// stream whose other end restarted mid-frame is picked up again.
class FrameDecoder {
 public:
  void Feed(std::string_view bytes);

  // A complete frame, std::nullopt when more bytes are needed, or the
  // decoding error (sticky, see above).
  Result<std::optional<Frame>> Next();

  // Forgets any error and everything buffered up to the next Hello header.
  void Resync();

  // Drops all buffered bytes and any error (a new connection on the stream).
  void Reset();

  size_t buffered() const { return buffer_.size() - start_; }

 private:
  std::string buffer_;
  size_t start_ = 0;
  std::optional<Error> error_;
  bool resyncing_ = false;
};

}  // namespace banger::agent
