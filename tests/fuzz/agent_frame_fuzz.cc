// The guest agent's wire protocol on an arbitrary byte stream, as either end
// receives it: the agent reads what the host (or anything writing to the
// virtio-serial port) sends, the host's AgentClient reads what a guest
// (possibly compromised) sends. Both cut frames with FrameDecoder and decode
// payloads with the Decode* functions of messages.h, so one target covers
// both directions.
//
// Input: byte 0 picks the sizes of the pieces the stream is fed in (a port
// delivers arbitrary pieces); the rest is the stream. Each frame's payload
// goes through every payload decoder (the one its type names and the
// others: a decoder must hold whatever bytes reach it). After a decoding
// error the decoder is resynchronised, as the agent does.
//
// Properties: no crash or sanitizer report; the frames and errors are the
// same whether the stream arrives whole or in pieces; a frame re-encodes to
// a header that decodes to it; what waits for more input is less than one
// frame; every refusal has a message; a payload a decoder accepts passes
// the decoder's own validation again after a round trip (encode, decode)
// and re-encodes to the same bytes.
#include <cstdint>
#include <string>
#include <vector>

#include "guest/agent/protocol/frame.h"
#include "guest/agent/protocol/messages.h"
#include "tests/fuzz/fuzz_support.h"

using namespace banger;
using namespace banger::agent;

namespace {

// A refusal must say what was wrong.
template <typename T>
bool Refused(const Result<T>& r) {
  if (r.ok()) return false;
  if (r.error().message().empty()) fuzz::Fail("agent decoder refusal without a message");
  return true;
}

// Decodes `payload` with `decode`; when accepted, encodes the value and
// requires the same bytes (the encoding is canonical, so accepting means
// the peer could only have meant this value) and a second decode to accept.
template <typename Decode, typename Encode>
void RoundTrip(std::string_view what, std::string_view payload, Decode decode, Encode encode) {
  auto value = decode(payload);
  if (Refused(value)) return;
  std::string again = encode(*value);
  if (again != payload) fuzz::Fail(std::string(what) + ": accepted payload is not canonical");
  auto second = decode(again);
  if (!second.ok()) fuzz::Fail(std::string(what) + ": re-encoded payload refused");
  if (encode(*second) != again) fuzz::Fail(std::string(what) + ": value changed on a round trip");
}

void DecodeEveryPayload(std::string_view p) {
  RoundTrip("hello", p, DecodeHello, EncodeHello);
  RoundTrip("hello_reply", p, DecodeHelloReply, EncodeHelloReply);
  RoundTrip("health_reply", p, DecodeHealthReply, EncodeHealthReply);
  RoundTrip("exec_start", p, DecodeExecStart, EncodeExecStart);
  RoundTrip("exit", p, DecodeExit, EncodeExit);
  RoundTrip("resize", p, DecodeWindowSize, EncodeWindowSize);
  RoundTrip("u32", p, [](std::string_view v) { return DecodeU32(v, "signal"); }, EncodeU32);
  RoundTrip("string", p, [](std::string_view v) { return DecodeString(v, "error"); },
            [](const std::string& s) { return EncodeString(s); });
  RoundTrip("directory", p, DecodeDirectory, [](const std::string& s) { return EncodeString(s); });
  RoundTrip("list", p, [](std::string_view v) { return DecodeStringList(v, "host_keys_reply"); },
            EncodeStringList);
  Status empty = ExpectEmpty(p, "health");
  if (empty.ok() != p.empty()) fuzz::Fail("ExpectEmpty disagrees with the payload size");
  if (!empty.ok() && empty.error().message().empty()) fuzz::Fail("empty refusal without a message");

  // The field validation the agent relies on before it runs anything.
  if (auto exec = DecodeExecStart(p); exec.ok()) {
    if (exec->argv.empty() || exec->argv[0].empty()) fuzz::Fail("exec_start: empty argv accepted");
    if (exec->argv.size() > kMaxListEntries || exec->env.size() > kMaxListEntries)
      fuzz::Fail("exec_start: more entries than allowed");
    for (const auto& e : exec->env) {
      if (e.find('=') == std::string::npos || e[0] == '=') fuzz::Fail("exec_start: env not NAME=value");
    }
    if (!exec->cwd.empty() && exec->cwd[0] != '/') fuzz::Fail("exec_start: relative cwd accepted");
  }
  if (auto dir = DecodeDirectory(p); dir.ok() && (dir->empty() || (*dir)[0] != '/'))
    fuzz::Fail("directory: relative path accepted");
  if (auto exit = DecodeExit(p); exit.ok()) {
    if (exit->signaled ? (exit->code == 0 || exit->code > 64) : exit->code > 255)
      fuzz::Fail("exit: status out of range accepted");
  }
}

// One event of a decoded stream: a frame, or the message of an error.
struct Event {
  bool error = false;
  Frame frame;
  std::string message;
  bool operator==(const Event& o) const {
    return error == o.error && message == o.message && frame.type == o.frame.type &&
           frame.channel == o.frame.channel && frame.payload == o.frame.payload;
  }
};

// Feeds `stream` in pieces whose sizes cycle through `sizes` and drains
// the decoder after each piece, resynchronising after each error.
std::vector<Event> Decode(std::string_view stream, const std::vector<size_t>& sizes) {
  FrameDecoder decoder;
  std::vector<Event> events;
  size_t at = 0;
  for (size_t i = 0; at < stream.size(); ++i) {
    size_t n = std::min(sizes[i % sizes.size()], stream.size() - at);
    decoder.Feed(stream.substr(at, n));
    at += n;
    for (;;) {
      auto next = decoder.Next();
      if (!next.ok()) {
        if (next.error().message().empty()) fuzz::Fail("frame refusal without a message");
        // Sticky until Resync: a second call must refuse the same way.
        auto again = decoder.Next();
        if (again.ok() || again.error().message() != next.error().message())
          fuzz::Fail("frame decoder error is not sticky");
        events.push_back({true, {}, next.error().message()});
        decoder.Resync();
        continue;
      }
      if (!*next) {
        if (decoder.buffered() >= kHeaderSize + kMaxPayload)
          fuzz::Fail("decoder waits on more than one frame of bytes");
        break;
      }
      Frame& f = **next;
      if (f.payload.size() > kMaxPayload) fuzz::Fail("frame payload over the limit");
      auto encoded = EncodeFrame(f.type, f.channel, f.payload);
      if (!encoded.ok()) fuzz::Fail("decoded frame cannot be encoded");
      MsgType type;
      uint32_t channel;
      auto length = DecodeHeader(std::string_view(*encoded).substr(0, kHeaderSize), type, channel);
      if (!length.ok() || *length != f.payload.size() || type != f.type || channel != f.channel)
        fuzz::Fail("re-encoded frame header does not decode to the frame");
      events.push_back({false, std::move(f), {}});
    }
  }
  return events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view stream = fuzz::AsView(data + 1, size - 1);
  // Piece sizes from byte 0: 1..8 bytes, then a larger piece, cycling.
  const unsigned seed = data[0];
  std::vector<size_t> pieces = {1 + (seed & 7), 1 + ((seed >> 3) & 7), 17 + (seed >> 6) * 100};

  std::vector<Event> whole = Decode(stream, {stream.size() + 1});
  std::vector<Event> split = Decode(stream, pieces);
  if (whole != split) fuzz::Fail("frames differ when the stream arrives in pieces");
  for (const auto& e : whole) {
    if (!e.error) DecodeEveryPayload(e.frame.payload);
  }
  // The whole input as one payload too: the decoders see more shapes than
  // the framing lets through in a short run.
  if (stream.size() <= kMaxPayload) DecodeEveryPayload(stream);
  return 0;
}
