// The response codec, as the engine's client decodes it.
#include <catch2/catch.hpp>

#include "helper/protocol/codec.h"

namespace banger::helper {
namespace {

TEST_CASE("responses round-trip through encode and decode") {
  auto ping = DecodeResponse<PingResponse>(EncodeResponse(PingResponse{"0.1.0", 1, 1000}));
  REQUIRE(ping.ok());
  CHECK(ping->version == "0.1.0");
  CHECK(ping->protocol == 1);
  CHECK(ping->owner_uid == 1000);

  ListTapsResponse list;
  list.taps = {{"bgt-1", "bg0", ""}, {"bgt-2", "bg0", "web"}};
  auto taps = DecodeResponse<ListTapsResponse>(EncodeResponse(list));
  REQUIRE(taps.ok());
  REQUIRE(taps->taps.size() == 2);
  CHECK(taps->taps[1].name == "bgt-2");
  CHECK(taps->taps[1].vm == "web");

  auto jail = DecodeResponse<JailResponse>(
      EncodeResponse(JailResponse{4321, "/srv/jailer/firecracker/banger-1000-web/root"}));
  REQUIRE(jail.ok());
  CHECK(jail->pid == 4321);
  CHECK(jail->root == "/srv/jailer/firecracker/banger-1000-web/root");
  CHECK(DecodeResponse<EmptyResponse>(EncodeResponse(EmptyResponse{})).ok());
}

TEST_CASE("an error response becomes the Error it carries") {
  Error sent(Code::kPermissionDenied, "delete tap 'bg0': the helper did not create it");
  auto r = DecodeResponse<EmptyResponse>(EncodeErrorResponse(sent));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == Code::kPermissionDenied);
  CHECK(r.error().message() == sent.message());
}

TEST_CASE("every error code survives the wire") {
  for (int i = 0; i <= static_cast<int>(Code::kInternal); ++i) {
    Code code = static_cast<Code>(i);
    CHECK(CodeFromName(CodeName(code)) == code);
  }
  CHECK(CodeFromName("no such code") == Code::kInternal);
}

TEST_CASE("responses are decoded strictly") {
  struct Case {
    const char* frame;
    const char* message;
  };
  const Case cases[] = {
      {R"({"ok":true,"result":{"name":"bgt-1","extra":1}})",
       "helper response: result: unknown field 'extra'"},
      {R"({"ok":true})", "helper response: missing field 'result'"},
      {R"({"ok":"yes","result":{}})",
       "helper response: field 'ok' must be a boolean, not string"},
      {R"({"ok":true,"result":{"name":"bgt-1"},"more":0})",
       "helper response: unknown field 'more'"},
      {R"({"ok":false,"error":{"code":"busy"}})", "helper response: error: missing field 'message'"},
  };
  for (const Case& c : cases) {
    INFO(c.frame);
    auto r = DecodeResponse<TapResponse>(c.frame);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message() == c.message);
  }
  auto ping = DecodeResponse<PingResponse>(R"({"ok":true,"result":{"version":"x","protocol":1}})");
  REQUIRE_FALSE(ping.ok());
  CHECK(ping.error().message() == "helper response: result: missing field 'owner_uid'");
}

}  // namespace
}  // namespace banger::helper
