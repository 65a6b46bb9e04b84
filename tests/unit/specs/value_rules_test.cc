#include <catch2/catch.hpp>

#include "specs/did_you_mean.h"
#include "specs/value_rules.h"

using namespace banger;
using namespace banger::specs;

TEST_CASE("Names") {
  for (const char* ok : {"a", "web", "web-1", "0", "a23456789012345678901234567890ab"}) {
    INFO(ok);
    CHECK(CheckName(ok).ok());
  }
  for (const char* bad : {"", "-web", "Web", "web_1", "web.1", "a23456789012345678901234567890abc",
                          "wéb"}) {
    INFO(bad);
    CHECK_FALSE(CheckName(bad).ok());
  }
  CHECK(CheckLabelKey("app.kubernetes_io-x").ok());
  CHECK_FALSE(CheckLabelKey(".x").ok());
  CHECK_FALSE(CheckLabelKey(std::string(64, 'a')).ok());
  CHECK(CheckLabelKey(std::string(63, 'a')).ok());
}

TEST_CASE("Guest paths stay strictly inside /root") {
  for (const char* ok : {"/root/x", "~/x", "/root/.ssh/authorized_keys", "~/a/b/", "/root/a..b",
                         "/root/.x"}) {
    INFO(ok);
    CHECK(CheckGuestPath(ok).ok());
  }
  for (const char* bad : {"/root", "/root/", "~", "~/", "/root/.", "/rootx/a", "/etc/x", "x",
                          "/root/../etc", "~/a/../../b", "/root/a/..", "/root/...", ""}) {
    INFO(bad);
    CHECK_FALSE(CheckGuestPath(bad).ok());
  }
}

TEST_CASE("Subnets are IPv4 networks of /16 to /29") {
  CHECK(CheckSubnet("172.30.0.0/24").ok());
  CHECK(CheckSubnet("10.1.0.0/16").ok());
  CHECK(CheckSubnet("192.168.7.248/29").ok());
  for (const char* bad : {"172.30.0.0", "172.30.0.0/15", "172.30.0.0/30", "172.30.0/24",
                          "256.1.1.0/24", "01.1.1.0/24", "a.b.c.d/24", "1.2.3.4.5/24",
                          "172.30.0.0/024", "172.30.0.0/"}) {
    INFO(bad);
    CHECK_FALSE(CheckSubnet(bad).ok());
  }
  CHECK(CheckSubnet("172.30.1.1/16").error().message() ==
        "invalid subnet '172.30.1.1/16': host bits are set (did you mean '172.30.0.0/16'?)");
}

TEST_CASE("Interface names") {
  CHECK(CheckInterfaceName("bg0").ok());
  CHECK(CheckInterfaceName("br-lab.1_x").ok());
  CHECK(CheckInterfaceName("abcdefghijklmno").ok());
  CHECK_FALSE(CheckInterfaceName("abcdefghijklmnop").ok());
  CHECK_FALSE(CheckInterfaceName("").ok());
  CHECK_FALSE(CheckInterfaceName("bg 0").ok());
  CHECK_FALSE(CheckInterfaceName("bg/0").ok());
  CHECK_FALSE(CheckInterfaceName("-bg").ok());
}

TEST_CASE("Modes as octal strings or numbers, at most 0777") {
  CHECK(*ParseMode("0600") == 0600u);
  CHECK(*ParseMode("600") == 0600u);
  CHECK(*ParseMode("0777") == 0777u);
  CHECK(*ParseMode("0") == 0u);
  for (const char* bad : {"", "1000", "0800", "00600", "rw", "-1", "0x1"}) {
    INFO(bad);
    CHECK_FALSE(ParseMode(bad).ok());
  }
  CHECK(*CheckMode(0644) == 0644u);
  CHECK_FALSE(CheckMode(600).ok());
  CHECK_FALSE(CheckMode(-1).ok());
}

TEST_CASE("Sources: sha256, urls, packages, OCI references, platforms") {
  CHECK(CheckSha256(std::string(64, 'a')).ok());
  CHECK_FALSE(CheckSha256(std::string(63, 'a')).ok());
  CHECK_FALSE(CheckSha256(std::string(64, 'g')).ok());
  CHECK(CheckUrl("https://h/x", true).ok());
  CHECK_FALSE(CheckUrl("http://h/x", true).ok());
  CHECK(CheckUrl("http://h/x", false).ok());
  CHECK_FALSE(CheckUrl("https:///x", false).ok());
  CHECK_FALSE(CheckUrl("https://h/a b", false).ok());
  CHECK(CheckPackageName("linux-image-cloud-amd64").ok());
  CHECK(CheckPackageName("g++").ok());
  CHECK_FALSE(CheckPackageName("a").ok());
  CHECK_FALSE(CheckPackageName("Git").ok());
  for (const char* ok : {"debian", "debian:bookworm", "docker.io/library/debian:bookworm",
                         "localhost:5000/a/b@sha256:abc", "ghcr.io/o/r:v1.2-rc_1"}) {
    INFO(ok);
    CHECK(CheckOciReference(ok).ok());
  }
  for (const char* bad : {"", "debian bookworm", "debian:", "/debian", "a/b/"}) {
    INFO(bad);
    CHECK_FALSE(CheckOciReference(bad).ok());
  }
  CHECK(CheckPlatform("linux/amd64").ok());
  CHECK(CheckPlatform("linux/arm64/v8").ok());
  CHECK_FALSE(CheckPlatform("linux").ok());
  CHECK_FALSE(CheckPlatform("linux//amd64").ok());
  CHECK_FALSE(CheckPlatform("linux/amd64/v8/x").ok());
  CHECK(CheckCatalogName("debian-6.1_lts").ok());
  CHECK_FALSE(CheckCatalogName("Debian").ok());
}

TEST_CASE("Host paths: relative ones join the spec's directory") {
  CHECK(ResolveHostPath("rootfs", "/specs") == "/specs/rootfs");
  CHECK(ResolveHostPath("./a/../b", "/specs/x") == "/specs/x/b");
  CHECK(ResolveHostPath("../up", "/specs/x") == "/specs/up");
  CHECK(ResolveHostPath("/abs/p", "/specs") == "/abs/p");
  CHECK(ResolveHostPath("~/p", "/specs") == "~/p");
  CHECK(ResolveHostPath("~", "/specs") == "~");
}

TEST_CASE("Did-you-mean suggests only likely typos") {
  const std::vector<std::string> keys = {"name", "image", "kernel", "vcpus", "memory", "disk",
                                         "nat", "keep_work_disk", "file_sync", "labels"};
  CHECK(ClosestMatch("memroy", keys) == "memory");
  CHECK(ClosestMatch("vcpu", keys) == "vcpus");
  CHECK(ClosestMatch("Memory", keys) == "memory");
  CHECK(ClosestMatch("filesync", keys) == "file_sync");
  CHECK(ClosestMatch("keep_workdisk", keys) == "keep_work_disk");
  CHECK(ClosestMatch("cpus", keys) == "vcpus");
  CHECK(ClosestMatch("ram", keys) == "");
  CHECK(ClosestMatch("hostname", keys) == "");
  CHECK(DidYouMean("imgae", keys) == " (did you mean 'image'?)");
  CHECK(DidYouMean("zzz", keys).empty());
  CHECK(EditDistance("", "abc") == 3);
  CHECK(EditDistance("ab", "ba") == 1);
  CHECK(EditDistance("kitten", "sitting") == 3);
}
