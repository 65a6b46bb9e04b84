#include <catch2/catch.hpp>

#include "reconciler/access/known_hosts.h"

namespace banger::access {
namespace {

const char* kKeyA = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAa/4QTgPwW2SQdyMmeDkWCypSyQKPPCEFDfj5/i6j+H";
const char* kKeyB = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPrCDI7VVg5xWQc5EU2x+7Q9eJmXhwjcbK2UgC0kuBfc";
const char* kEcdsa =
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBLVOQdNOI3KxrEN39ycjUCVP"
    "ZCDnBNoIztO0SSwno5YaraDRz882in3UPpg3DZfJAIQFS3Uow/EB1MHGxIM1FMY=";

HostKey Parse(const char* text) {
  auto k = ParseHostKey(text);
  REQUIRE(k.ok());
  return *k;
}

TEST_CASE("ParseHostKey decodes the wire blob and checks its type") {
  HostKey a = Parse("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAa/4QTgPwW2SQdyMmeDkWCypSyQKPPCEFDfj5/i6j+H root@guest");
  CHECK(a.type == "ssh-ed25519");
  // u32 len(11) "ssh-ed25519" u32 len(32) + 32 key bytes.
  REQUIRE(a.blob.size() == 4 + 11 + 4 + 32);
  CHECK(a.blob.substr(4, 11) == "ssh-ed25519");

  HostKey e = Parse(kEcdsa);  // base64 with '=' padding
  CHECK(e.blob.size() == 104);

  CHECK_FALSE(ParseHostKey("ssh-ed25519").ok());
  CHECK_FALSE(ParseHostKey("ssh-ed25519 not*base64").ok());
  // A valid blob under the wrong type name is refused.
  auto wrong = ParseHostKey("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIAa/4QTgPwW2SQdyMmeDkWCypSyQKPPCEFDfj5/i6j+H");
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().message().find("is not a 'ssh-rsa' key") != std::string::npos);
}

TEST_CASE("ReplaceVmHostKeys formats alias,ip lines and keeps other lines") {
  std::string content = "# user comment\n"
                        "db.vm,172.30.0.6 " + std::string(kKeyB) + "\n";
  std::string out = ReplaceVmHostKeys(content, "web", "172.30.0.5", {Parse(kKeyA), Parse(kEcdsa)});
  CHECK(out == content + "web.vm,172.30.0.5 " + kKeyA + "\n" + "web.vm,172.30.0.5 " + kEcdsa + "\n");

  // Re-pinning replaces (new key, new address), in place of the old lines.
  std::string again = ReplaceVmHostKeys(out, "web", "172.30.0.9", {Parse(kKeyB)});
  CHECK(again == content + "web.vm,172.30.0.9 " + kKeyB + "\n");

  // Forgetting removes only that VM; a VM whose name is a prefix is untouched.
  std::string with_prefix = again + "web2.vm,172.30.0.7 " + kKeyA + "\n";
  CHECK(ReplaceVmHostKeys(with_prefix, "web", "", {}) ==
        content + "web2.vm,172.30.0.7 " + kKeyA + "\n");
}

TEST_CASE("ReplaceVmHostKeys handles a file without a trailing newline") {
  CHECK(ReplaceVmHostKeys("other 1 2", "web", "10.0.0.1", {Parse(kKeyA)}) ==
        std::string("other 1 2\nweb.vm,10.0.0.1 ") + kKeyA + "\n");
  // Nothing to remove: the bytes stay as they are.
  CHECK(ReplaceVmHostKeys("other 1 2", "web", "", {}) == "other 1 2");
}

TEST_CASE("PinnedHostKeys finds the VM's keys by its alias") {
  std::string content = std::string("db.vm,172.30.0.6 ") + kKeyB + "\n" +
                        "web.vm,172.30.0.5 " + kKeyA + "\n" +
                        "web.vm,172.30.0.5 garbage !!\n" +
                        "@revoked web.vm " + kKeyB + "\n";
  auto keys = PinnedHostKeys(content, "web");
  REQUIRE(keys.size() == 1);
  CHECK(keys[0].blob == Parse(kKeyA).blob);
  CHECK(PinnedHostKeys(content, "nope").empty());
  CHECK(HostKeyAlias("web") == "web.vm");
}

}  // namespace
}  // namespace banger::access
