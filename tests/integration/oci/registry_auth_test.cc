// Authentication against real servers: htpasswd Basic auth on
// docker-registry with credentials from $HOME/.docker/config.json, the
// bearer-token flow with docker-registry's auth.token and a local token
// server, and credentials withheld from redirects to another host.
#include <stdlib.h>

#include <catch2/catch.hpp>

#include "reconciler/oci/credentials.h"
#include "reconciler/oci/puller.h"
#include "reconciler/os/exec.h"
#include "reconciler/os/fs.h"
#include "tests/integration/oci/oci_fixtures.h"
#include "tests/support/test_env.h"

using namespace banger;
using namespace banger::testing;

namespace {

// Points $HOME at a directory for the scope of a test.
class ScopedHome {
 public:
  explicit ScopedHome(const std::string& home) {
    if (const char* h = getenv("HOME")) old_ = h;
    setenv("HOME", home.c_str(), 1);
  }
  ~ScopedHome() {
    if (old_.empty()) unsetenv("HOME");
    else setenv("HOME", old_.c_str(), 1);
  }

 private:
  std::string old_;
};

void WriteDockerConfig(const std::string& home, const std::string& registry,
                       const std::string& user_pass) {
  WriteFile(home, ".docker/config.json",
            R"({"auths":{")" + registry + R"(":{"auth":")" + oci::Base64Encode(user_pass) +
                R"("}}})");
}

}  // namespace

TEST_CASE("htpasswd registry: credentials come from ~/.docker/config.json for that registry only") {
  const std::string& layout = FixtureLayout();
  OciRegistryOptions ropts;
  ropts.htpasswd_user = "alice";
  ropts.htpasswd_password = "s3cret-pw";
  auto reg = OciRegistry::Start(ropts);
  PushLayout(layout, "v1", reg->host() + "/banger/base:v1", "alice:s3cret-pw");
  auto ref = oci::ParseReference(reg->host() + "/banger/base:v1");
  REQUIRE(ref.ok());
  auto scratch = ScratchDir("banger-oci-basic-");
  std::string home = JoinPath(scratch.path(), "home");
  ScopedHome scoped(home);
  oci::PullOptions opts;
  opts.cache_dir = JoinPath(scratch.path(), "cache");

  SECTION("no credentials") {
    auto r = oci::Puller().Pull(*ref, oci::Platform{}, opts);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Code::kPermissionDenied);
    CHECK(r.error().message().find("requires credentials") != std::string::npos);
  }
  SECTION("credentials for another registry are not used") {
    WriteDockerConfig(home, "127.0.0.2:" + std::to_string(reg->port()), "alice:s3cret-pw");
    auto r = oci::Puller().Pull(*ref, oci::Platform{}, opts);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Code::kPermissionDenied);
  }
  SECTION("wrong password") {
    WriteDockerConfig(home, reg->host(), "alice:wrong");
    auto r = oci::Puller().Pull(*ref, oci::Platform{}, opts);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Code::kPermissionDenied);
    CHECK(r.error().message().find("401") != std::string::npos);
  }
  SECTION("matching credentials") {
    WriteDockerConfig(home, reg->host(), "alice:s3cret-pw");
    auto r = oci::Puller().Pull(*ref, oci::Platform{}, opts);
    INFO((r.ok() ? "" : r.error().message()));
    REQUIRE(r.ok());
    CHECK(r->blobs_transferred == 4);
  }
}

TEST_CASE("Basic credentials are not sent on a redirect to another host") {
  const std::string& layout = FixtureLayout();
  auto reg = OciRegistry::Start();
  PushLayout(layout, "v1", reg->host() + "/banger/base:v1");
  auto scratch = ScratchDir("banger-oci-redirect-");
  int port = FreeLoopbackPort();
  std::string log = JoinPath(scratch.path(), "proxy.log");
  // The proxy demands Basic auth and redirects blobs to localhost:PORT,
  // another origin than 127.0.0.1:PORT.
  ChildProcess proxy = StartHelperServer(
      "fault_proxy.py", port,
      {"--upstream", "http://" + reg->host(), "--log", log, "--require-basic", "bob:pw-bob",
       "--redirect-blobs"},
      log, "/");
  std::string registry = "127.0.0.1:" + std::to_string(port);
  WriteDockerConfig(scratch.path(), registry, "bob:pw-bob");
  oci::PullOptions opts = TestPullOptions(scratch.path(), JoinPath(scratch.path(), ".docker/config.json"));
  auto ref = oci::ParseReference(registry + "/banger/base:v1");
  REQUIRE(ref.ok());
  auto r = oci::Puller().Pull(*ref, oci::Platform{}, opts);
  INFO((r.ok() ? "" : r.error().message()));
  REQUIRE(r.ok());
  std::string requests = Slurp(log);
  INFO(requests);
  CHECK(requests.find("GET /redirected/v2/banger/base/blobs/sha256:") != std::string::npos);
  // Credentials went to the registry's origin...
  CHECK(requests.find("/manifests/v1 auth=yes") != std::string::npos);
  // ...and never to the redirect target.
  CHECK(requests.find("/redirected/") != std::string::npos);
  size_t pos = 0;
  while ((pos = requests.find("GET /redirected/", pos)) != std::string::npos) {
    size_t eol = requests.find('\n', pos);
    CHECK(requests.substr(pos, eol - pos).find("auth=no") != std::string::npos);
    pos = eol;
  }
}

TEST_CASE("bearer tokens from a local token server (docker-registry auth.token)") {
  const std::string& layout = FixtureLayout();
  auto scratch = ScratchDir("banger-oci-token-");
  std::string key = JoinPath(scratch.path(), "key.pem");
  std::string cert = JoinPath(scratch.path(), "cert.pem");
  ExecRequest openssl;
  openssl.argv = {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                  "-out", cert, "-days", "1", "-subj", "/CN=banger-test-token"};
  REQUIRE(RunChecked(openssl).ok());
  int token_port = FreeLoopbackPort();
  std::string token_log = JoinPath(scratch.path(), "token.log");
  ChildProcess token_server = StartHelperServer(
      "token_server.py", token_port,
      {"--key", key, "--cert", cert, "--issuer", "banger-issuer", "--log", token_log, "--user",
       "carol:pw-carol"},
      token_log, "/token");
  OciRegistryOptions ropts;
  ropts.token_realm = "http://127.0.0.1:" + std::to_string(token_port) + "/token";
  ropts.token_service = "banger-registry";
  ropts.token_issuer = "banger-issuer";
  ropts.token_rootcert = cert;
  auto reg = OciRegistry::Start(ropts);
  PushLayout(layout, "v1", reg->host() + "/banger/base:v1", "carol:pw-carol");
  auto ref = oci::ParseReference(reg->host() + "/banger/base:v1");
  REQUIRE(ref.ok());

  SECTION("anonymous pull") {
    auto r = oci::Puller().Pull(*ref, oci::Platform{}, TestPullOptions(scratch.path()));
    INFO((r.ok() ? "" : r.error().message()));
    REQUIRE(r.ok());
    CHECK(r->blobs_transferred == 4);
    // One token for the repository's pull scope, reused for every blob.
    std::string log = Slurp(token_log);
    const std::string line = "scope=repository:banger/base:pull user=-";
    size_t anon = 0;
    for (size_t p = log.find(line); p != std::string::npos; p = log.find(line, p + 1)) ++anon;
    INFO(log);
    CHECK(anon == 1);
  }
  SECTION("credentials are sent to the token realm and wrong ones are refused") {
    std::string cfg = JoinPath(scratch.path(), "config.json");
    WriteFile(scratch.path(), "config.json",
              R"({"auths":{")" + reg->host() + R"(":{"auth":")" + oci::Base64Encode("carol:nope") +
                  R"("}}})");
    auto r = oci::Puller().Pull(*ref, oci::Platform{}, TestPullOptions(scratch.path(), cfg));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Code::kPermissionDenied);
    CHECK(r.error().message().find("token server") != std::string::npos);
  }
}
