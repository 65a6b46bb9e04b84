#include <catch2/catch.hpp>
#include <vector>

#include "reconciler/oci/credentials.h"

using namespace banger;
using namespace banger::oci;

TEST_CASE("WWW-Authenticate challenges parse") {
  auto c = ParseChallenge(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/debian:pull")");
  REQUIRE(c.ok());
  CHECK(c->scheme == "bearer");
  CHECK(c->Param("realm") == "https://auth.docker.io/token");
  CHECK(c->Param("service") == "registry.docker.io");
  CHECK(c->Param("scope") == "repository:library/debian:pull");
  auto basic = ParseChallenge(R"(Basic realm="Registry Realm")");
  REQUIRE(basic.ok());
  CHECK(basic->scheme == "basic");
  CHECK(basic->Param("realm") == "Registry Realm");
  auto spaced = ParseChallenge(R"(Bearer realm=x, service="a\"b", error=invalid_token)");
  REQUIRE(spaced.ok());
  CHECK(spaced->Param("realm") == "x");
  CHECK(spaced->Param("service") == "a\"b");
  CHECK(spaced->Param("error") == "invalid_token");
  CHECK_FALSE(ParseChallenge(R"(Bearer realm="unterminated)").ok());
  CHECK_FALSE(ParseChallenge("").ok());
}

TEST_CASE("docker config credentials belong to exactly one registry") {
  const std::string cfg = R"({"auths":{
      "https://index.docker.io/v1/":{"auth":")" + Base64Encode("hub:hubpw") + R"("},
      "127.0.0.1:5000":{"auth":")" + Base64Encode("local:pw:with:colons") + R"("},
      "other.test":{"username":"u","password":"p"}}})";
  auto hub = FindDockerCredentials(cfg, "docker.io", "cfg");
  REQUIRE(hub.ok());
  REQUIRE(hub->has_value());
  CHECK((*hub)->username == "hub");
  CHECK((*hub)->password == "hubpw");
  auto local = FindDockerCredentials(cfg, "127.0.0.1:5000", "cfg");
  REQUIRE(local->has_value());
  CHECK((*local)->password == "pw:with:colons");
  CHECK((*FindDockerCredentials(cfg, "other.test", "cfg"))->username == "u");
  // Same host, other port; other host: nothing.
  CHECK_FALSE(FindDockerCredentials(cfg, "127.0.0.1:5001", "cfg")->has_value());
  CHECK_FALSE(FindDockerCredentials(cfg, "evil.test", "cfg")->has_value());
  CHECK_FALSE(FindDockerCredentials(R"({"credsStore":"desktop"})", "docker.io", "cfg")->has_value());

  auto bad = FindDockerCredentials(R"({"auths":{"x.test":{"auth":"!!!"}}})", "x.test", "/h/c.json");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message().find("'/h/c.json'") != std::string::npos);
  CHECK_FALSE(FindDockerCredentials("{", "x.test", "cfg").ok());
  CHECK_FALSE(FindDockerCredentials(
      R"({"auths":{"x.test":{"auth":")" + Base64Encode("nocolon") + R"("}}})", "x.test", "c").ok());
}

TEST_CASE("base64 round-trips") {
  for (std::string s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    auto d = Base64Decode(Base64Encode(s));
    REQUIRE(d.ok());
    CHECK(*d == s);
  }
  CHECK(Base64Encode("user:pass") == "dXNlcjpwYXNz");
  CHECK_FALSE(Base64Decode("abc").ok());
}
