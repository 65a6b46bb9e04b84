#include <catch2/catch.hpp>
#include <vector>

#include "reconciler/oci/reference.h"
#include "reconciler/oci/reference.h"
#include "reconciler/oci/registry_client.h"

using namespace banger;
using namespace banger::oci;

namespace {
const std::string kDigest = "sha256:" + std::string(64, 'a');

Reference Parse(const std::string& text) {
  auto r = ParseReference(text);
  INFO(text << ": " << (r.ok() ? "" : r.error().message()));
  REQUIRE(r.ok());
  return *r;
}
}  // namespace

TEST_CASE("references normalise like Docker's") {
  CHECK(Parse("debian") == Reference{"docker.io", "library/debian", "latest", ""});
  CHECK(Parse("docker.io/library/debian:bookworm") ==
        Reference{"docker.io", "library/debian", "bookworm", ""});
  CHECK(Parse("index.docker.io/debian:12") == Reference{"docker.io", "library/debian", "12", ""});
  CHECK(Parse("user/app:v1.2_3-x") == Reference{"docker.io", "user/app", "v1.2_3-x", ""});
  CHECK(Parse("ghcr.io/o/r/n:t") == Reference{"ghcr.io", "o/r/n", "t", ""});
  CHECK(Parse("host:5000/name:tag") == Reference{"host:5000", "name", "tag", ""});
  CHECK(Parse("host:5000/name") == Reference{"host:5000", "name", "latest", ""});
  CHECK(Parse("localhost/x") == Reference{"localhost", "x", "latest", ""});
  CHECK(Parse("127.0.0.1:5000/x/y@" + kDigest) == Reference{"127.0.0.1:5000", "x/y", "", kDigest});
  Reference both = Parse("a.io/x:t@" + kDigest);
  CHECK(both.tag == "t");
  CHECK(both.ManifestRef() == kDigest);
  CHECK(both.ToString() == "a.io/x:t@" + kDigest);
  CHECK(Parse("debian").ToString() == "docker.io/library/debian:latest");
}

TEST_CASE("malformed references are refused naming the text") {
  for (std::string bad : std::vector<std::string>{"", "UPPER/case", "a//b", "x:", "x@sha256:abc", "x@md5:" + std::string(32, 'a'),
                          "x@sha256:" + std::string(64, 'A'), "-x", "x-", "a..b", "a___b",
                          "x:-tag", "x/:t", "a.io/b c"}) {
    INFO(bad);
    auto r = ParseReference(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Code::kInvalidArgument);
    CHECK(r.error().message().find(Quote(bad)) != std::string::npos);
  }
}

TEST_CASE("default image names are short, lowercase and valid") {
  CHECK(DefaultImageName(Parse("docker.io/library/debian:bookworm")) == "debian-bookworm");
  CHECK(DefaultImageName(Parse("debian")) == "debian-latest");
  CHECK(DefaultImageName(Parse("ghcr.io/o/my_app:V1.2")) == "my-app-v1-2");
  CHECK(DefaultImageName(Parse("127.0.0.1:5000/x/y@" + kDigest)) == "y-aaaaaaaaaaaa");
  std::string long_name = DefaultImageName(
      Parse("a.io/averyveryverylongrepositoryname:andalongtagtoo"));
  CHECK(long_name.size() <= 32);
  CHECK(long_name.back() != '-');
  CHECK(long_name.rfind("averyvery", 0) == 0);
}

TEST_CASE("loopback registries and where http is allowed") {
  CHECK(IsLoopbackRegistry("127.0.0.1:5000"));
  CHECK(IsLoopbackRegistry("127.9.8.7"));
  CHECK(IsLoopbackRegistry("localhost:5000"));
  CHECK(IsLoopbackRegistry("[::1]:5000"));
  CHECK_FALSE(IsLoopbackRegistry("128.0.0.1:5000"));
  CHECK_FALSE(IsLoopbackRegistry("127.0.0.1.example.com"));
  CHECK_FALSE(IsLoopbackRegistry("docker.io"));
  CHECK(RegistryApiHost("docker.io") == "registry-1.docker.io");

  CHECK(RegistryClient("registry.example.test", {}).base_url() == "https://registry.example.test");
  CHECK(RegistryClient("127.0.0.1:5000", {}).base_url() == "http://127.0.0.1:5000");
  RegistryOptions insecure;
  insecure.insecure = true;
  CHECK(RegistryClient("registry.example.test:5000", insecure).base_url() ==
        "http://registry.example.test:5000");
  CHECK(RegistryClient("docker.io", {}).base_url() == "https://registry-1.docker.io");
}

TEST_CASE("digests must be sha256 with 64 lowercase hex digits") {
  CHECK(IsValidDigest(kDigest));
  CHECK_FALSE(IsValidDigest("sha256:" + std::string(63, 'a')));
  CHECK_FALSE(IsValidDigest("sha256:" + std::string(65, 'a')));
  CHECK_FALSE(IsValidDigest("sha512:" + std::string(64, 'a')));
  CHECK_FALSE(IsValidDigest("sha256:" + std::string(63, 'a') + "g"));
  CHECK_FALSE(CheckDigest("sha256:../../etc", "layer").ok());
  CHECK(Sha256Digest("") ==
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 h;
  h.Update("ab", 2);
  h.Update("c", 1);
  CHECK(h.Finish() == Sha256Digest("abc"));
}

TEST_CASE("registry mirrors parse REGISTRY=HOST[:PORT] pairs and refuse the rest") {
  auto m = ParseRegistryMirrors("docker.io=127.0.0.1:5000,quay.io=mirror.example");
  REQUIRE(m.ok());
  CHECK(m->size() == 2);
  CHECK(m->at("docker.io") == "127.0.0.1:5000");
  CHECK(m->at("quay.io") == "mirror.example");
  CHECK(ParseRegistryMirrors("")->empty());
  for (const char* bad : {"docker.io", "=x:1", "docker.io=", "docker.io=http://x/y"}) {
    auto r = ParseRegistryMirrors(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message().find("registry mirror") != std::string::npos);
  }
}
