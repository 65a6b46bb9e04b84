// A fault-injecting proxy (tests/fixtures/oci/fault_proxy.py) in front of a
// real registry: corrupt, oversized and truncated blobs and 500s mid-pull
// give clear errors, never poison the cache, and a retry succeeds.
#include <catch2/catch.hpp>

#include "reconciler/oci/puller.h"
#include "reconciler/os/fs.h"
#include "tests/integration/oci/oci_fixtures.h"
#include "tests/support/test_env.h"

using namespace banger;
using namespace banger::testing;

namespace {

struct FaultCase {
  std::string fault;
  std::string error_mentions;
};

size_t CountLines(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("blob faults fail clearly, leave the cache clean, and a retry succeeds") {
  const std::string& layout = FixtureLayout();
  auto reg = OciRegistry::Start();
  PushLayout(layout, "v1", reg->host() + "/banger/base:v1");
  const std::vector<FaultCase> cases = {
      {"corrupt", "content has digest"},
      {"oversize", "bytes its descriptor declares"},
      {"truncate", "blob"},
      {"error500", "HTTP 500"},
  };
  for (const auto& c : cases) {
    INFO(c.fault);
    auto scratch = ScratchDir("banger-oci-fault-");
    int port = FreeLoopbackPort();
    std::string log = JoinPath(scratch.path(), "proxy.log");
    pid_t proxy_pid;
    {
      ChildProcess proxy = StartHelperServer(
          "fault_proxy.py", port,
          {"--upstream", "http://" + reg->host(), "--log", log, "--fault", c.fault, "--count", "1"},
          log);
      proxy_pid = proxy.pid();
      auto ref = oci::ParseReference("127.0.0.1:" + std::to_string(port) + "/banger/base:v1");
      REQUIRE(ref.ok());
      oci::PullOptions opts = TestPullOptions(scratch.path());
      opts.attempts = 1;
      opts.parallel_layers = 1;
      oci::Puller puller;

      auto failed = puller.Pull(*ref, oci::Platform{}, opts);
      REQUIRE_FALSE(failed.ok());
      INFO(failed.error().message());
      CHECK(failed.error().message().find(c.error_mentions) != std::string::npos);
      CHECK(failed.error().message().find(ref->ToString()) != std::string::npos);
      CHECK(CacheIsClean(opts.cache_dir));
      // The image is not recorded while its blobs are incomplete.
      CHECK(Slurp(JoinPath(opts.cache_dir, "oci/index.json")).find("banger/base") ==
            std::string::npos);

      auto retried = puller.Pull(*ref, oci::Platform{}, opts);
      INFO((retried.ok() ? "" : retried.error().message()));
      REQUIRE(retried.ok());
      CHECK(retried->layer_paths.size() == 3);
      CHECK(CacheIsClean(opts.cache_dir));
      CHECK(CountLines(Slurp(log), "fault=" + c.fault) == 1);
    }
    CHECK_FALSE(ProcessExists(proxy_pid));
  }
}

TEST_CASE("transient blob faults are retried within one pull") {
  const std::string& layout = FixtureLayout();
  auto reg = OciRegistry::Start();
  PushLayout(layout, "v1", reg->host() + "/banger/base:v1");
  auto scratch = ScratchDir("banger-oci-retry-");
  int port = FreeLoopbackPort();
  std::string log = JoinPath(scratch.path(), "proxy.log");
  ChildProcess proxy = StartHelperServer(
      "fault_proxy.py", port,
      {"--upstream", "http://" + reg->host(), "--log", log, "--fault", "error500", "--count", "2"},
      log);
  auto ref = oci::ParseReference("127.0.0.1:" + std::to_string(port) + "/banger/base:v1");
  REQUIRE(ref.ok());
  oci::PullOptions opts = TestPullOptions(scratch.path());
  opts.attempts = 3;
  opts.parallel_layers = 1;
  auto r = oci::Puller().Pull(*ref, oci::Platform{}, opts);
  INFO((r.ok() ? "" : r.error().message()));
  REQUIRE(r.ok());
  CHECK(r->blobs_transferred == 4);
  CHECK(CountLines(Slurp(log), "fault=error500") == 2);
  CHECK(CacheIsClean(opts.cache_dir));
}
