// The agent's framing: frames round-trip through the stream decoder however
// the bytes are split; malformed headers are refused with a message naming
// what is wrong; a decoder resynchronises on the next Hello.
#include <catch2/catch.hpp>

#include <string>

#include "guest/agent/protocol/frame.h"
#include "guest/agent/protocol/messages.h"

namespace banger::agent {
namespace {

std::string Encode(MsgType type, uint32_t channel, std::string_view payload) {
  auto f = EncodeFrame(type, channel, payload);
  REQUIRE(f.ok());
  return *f;
}

// Decodes every frame in `bytes`; fails the test on a decoding error.
std::vector<Frame> DecodeAll(FrameDecoder& d) {
  std::vector<Frame> out;
  for (;;) {
    auto f = d.Next();
    REQUIRE(f.ok());
    if (!f->has_value()) return out;
    out.push_back(**f);
  }
}

std::string ErrorOf(std::string bytes) {
  FrameDecoder d;
  d.Feed(bytes);
  auto f = d.Next();
  REQUIRE_FALSE(f.ok());
  // Sticky: the same error again, whatever follows.
  d.Feed(Encode(MsgType::kHealth, 0, ""));
  auto again = d.Next();
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().message() == f.error().message());
  return f.error().message();
}

TEST_CASE("frames round-trip one byte at a time and all at once") {
  std::string stream = Encode(MsgType::kHello, 0, EncodeHello({42})) +
                       Encode(MsgType::kStdin, 7, std::string("a\0b", 3)) +
                       Encode(MsgType::kStdinClose, 7, "") +
                       Encode(MsgType::kData, 0xfffffffe, std::string(kMaxPayload, 'x'));
  for (size_t step : {size_t{1}, size_t{5}, stream.size()}) {
    FrameDecoder d;
    std::vector<Frame> frames;
    for (size_t at = 0; at < stream.size(); at += step) {
      d.Feed(std::string_view(stream).substr(at, step));
      for (auto& f : DecodeAll(d)) frames.push_back(std::move(f));
    }
    REQUIRE(frames.size() == 4);
    CHECK(frames[0].type == MsgType::kHello);
    CHECK(DecodeHello(frames[0].payload)->nonce == 42);
    CHECK(frames[1].channel == 7);
    CHECK(frames[1].payload == std::string("a\0b", 3));
    CHECK(frames[2].type == MsgType::kStdinClose);
    CHECK(frames[3].channel == 0xfffffffe);
    CHECK(frames[3].payload.size() == kMaxPayload);
    CHECK(d.buffered() == 0);
  }
}

TEST_CASE("a payload over the limit is not encoded") {
  auto f = EncodeFrame(MsgType::kData, 1, std::string(kMaxPayload + 1, 'x'));
  REQUIRE_FALSE(f.ok());
  CHECK(f.error().code() == Code::kInternal);
}

TEST_CASE("malformed headers are refused") {
  std::string good = Encode(MsgType::kHealth, 0, "");
  std::string bad = good;
  bad[0] = 'X';
  CHECK(ErrorOf(bad) == "agent frame: bad magic (not an agent stream)");
  bad = good;
  bad[3] = 2;
  CHECK(ErrorOf(bad) == "agent frame: protocol version 2, this side speaks 1");
  bad = good;
  bad[4] = 0;
  CHECK(ErrorOf(bad) == "agent frame: unknown message type 0");
  bad[4] = 24;
  CHECK(ErrorOf(bad) == "agent frame: unknown message type 24");
  bad = good;
  bad[6] = 1;
  CHECK(ErrorOf(bad) == "agent frame: reserved header bytes are not zero");
  bad = good;
  bad[12] = 0;
  bad[13] = 1;  // 65536 + 1 bytes
  bad[14] = 0;
  bad[15] = 1;
  CHECK(ErrorOf(bad) == "agent frame: payload of 65537 bytes exceeds the limit of 65536");
}

TEST_CASE("an oversized length is refused before its payload arrives") {
  std::string header = Encode(MsgType::kData, 1, "").substr(0, kHeaderSize);
  header[12] = 0x7f;  // ~2 GiB announced
  FrameDecoder d;
  d.Feed(header);
  CHECK_FALSE(d.Next().ok());
}

TEST_CASE("a decoder resyncs on the next hello and skips everything before it") {
  FrameDecoder d;
  d.Feed("garbage BG");
  d.Feed(Encode(MsgType::kHealth, 0, ""));  // a valid frame, but not a hello
  d.Feed("BGA");
  d.Feed(Encode(MsgType::kHello, 0, EncodeHello({9})));
  d.Feed(Encode(MsgType::kHealth, 0, ""));
  REQUIRE_FALSE(d.Next().ok());
  d.Resync();
  auto frames = DecodeAll(d);
  REQUIRE(frames.size() == 2);
  CHECK(frames[0].type == MsgType::kHello);
  CHECK(DecodeHello(frames[0].payload)->nonce == 9);
  CHECK(frames[1].type == MsgType::kHealth);
}

TEST_CASE("a resyncing decoder keeps a partial hello header") {
  FrameDecoder d;
  d.Resync();
  std::string hello = Encode(MsgType::kHello, 0, EncodeHello({3}));
  d.Feed("xx" + hello.substr(0, 5));
  CHECK(DecodeAll(d).empty());
  d.Feed(hello.substr(5));
  auto frames = DecodeAll(d);
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].type == MsgType::kHello);
}

TEST_CASE("reset forgets buffered bytes and errors") {
  FrameDecoder d;
  d.Feed("nonsense that is longer than a header");
  REQUIRE_FALSE(d.Next().ok());
  d.Reset();
  d.Feed(Encode(MsgType::kHealth, 0, ""));
  CHECK(DecodeAll(d).size() == 1);
}

TEST_CASE("every message type has a name") {
  for (int t = kMinMsgType; t <= kMaxMsgType; ++t) {
    CHECK(MsgTypeName(static_cast<MsgType>(t)) != "?");
  }
  CHECK(MsgTypeName(static_cast<MsgType>(0)) == "?");
}

}  // namespace
}  // namespace banger::agent
