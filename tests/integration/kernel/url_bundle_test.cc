// Kernel bundles fetched over HTTP from a loopback server in this process.
#include <catch2/catch.hpp>

#include "reconciler/kernel/digest.h"
#include "reconciler/kernel/file_kernel_store.h"
#include "reconciler/kernel/kernel_catalog.h"
#include "reconciler/os/fs.h"
#include "tests/fixtures/kernel/kernel_fixtures.h"
#include "tests/integration/kernel/loopback_http_server.h"
#include "tests/support/test_env.h"

using namespace banger;
using namespace banger::kernel;
using Server = testing::LoopbackHttpServer;

namespace {

// Bundles need no commands; any call is a failure of the test.
class NoCommands : public CommandRunner {
 public:
  Result<ExecResult> Run(const ExecRequest& r) override {
    return Error(Code::kInternal, "unexpected command " + DescribeArgv(r.argv));
  }
};

struct Fixture {
  TempDir root = testing::ScratchDir();
  std::string kernels = root.path() + "/kernels";
  std::string staging = root.path() + "/staging";
  std::string cache = root.path() + "/cache";
  NoCommands runner;
  FileKernelStore store{kernels, staging, cache, runner};
  apply::NullProgress progress;
  std::string vmlinux = testing::FakeVmlinux();
  std::string bundle;
  std::string sha;

  Fixture() {
    const std::string path = root.path() + "/bundle.tar.zst";
    testing::WriteTarZst(path, {{"vmlinuz", 'f', testing::FakeBzImage(vmlinux, "6.1.77-net")},
                                {"initrd.img", 'f', "INITRD"}});
    bundle = *ReadFile(path);
    sha = Sha256Hex(bundle);
  }

  Result<model::KernelRecord> Build(const std::string& url, const std::string& digest) {
    specs::KernelSpec spec;
    spec.name = "net";
    spec.source = specs::KernelSource::kUrl;
    spec.url = url;
    spec.sha256 = digest;
    return store.Build(spec, {}, progress);
  }

  size_t Count(const std::string& dir) {
    return IsDirectory(dir) ? ListDir(dir)->size() : 0;
  }
  void RequireNothingLeft() {
    CHECK(Count(kernels) == 0);
    CHECK(Count(staging) == 0);
    CHECK(Count(cache + "/downloads") == 0);
  }
};

}  // namespace

TEST_CASE("a good bundle downloads, verifies and publishes", "[url]") {
  Fixture f;
  Server server;
  server.Set("/k.tar.zst", {200, f.bundle});
  auto r = f.Build(server.Url("/k.tar.zst"), f.sha);
  REQUIRE(r.ok());
  CHECK(r->version == "6.1.77-net");
  CHECK(*ReadFile(r->dir + "/vmlinux") == f.vmlinux);
  CHECK(*ReadFile(r->dir + "/initrd.img") == "INITRD");
  CHECK(f.store.Present(*r));
  CHECK(PathExists(f.cache + "/downloads/" + f.sha));
  CHECK(f.Count(f.staging) == 0);

  // Cached: a second build does not hit the server.
  auto again = f.Build(server.Url("/k.tar.zst"), f.sha);
  REQUIRE(again.ok());
  CHECK(again->digest == r->digest);
  CHECK(server.Requests("/k.tar.zst") == 1);
}

TEST_CASE("redirects are followed", "[url]") {
  Fixture f;
  Server server;
  server.Set("/k.tar.zst", {200, f.bundle});
  Server::Response moved;
  moved.status = 302;
  moved.location = server.Url("/k.tar.zst");
  server.Set("/latest", moved);
  auto r = f.Build(server.Url("/latest"), f.sha);
  REQUIRE(r.ok());
  CHECK(server.Requests("/latest") == 1);
}

TEST_CASE("a bad sha256 names the URL and both digests and leaves nothing", "[url]") {
  Fixture f;
  Server server;
  server.Set("/k.tar.zst", {200, f.bundle});
  const std::string expected = Sha256Hex("something else");
  auto r = f.Build(server.Url("/k.tar.zst"), expected);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == Code::kCorruption);
  CHECK_THAT(r.error().message(), Catch::Contains("'" + server.Url("/k.tar.zst") + "'"));
  CHECK_THAT(r.error().message(),
             Catch::Contains("sha256 mismatch: expected " + expected + ", got " + f.sha));
  f.RequireNothingLeft();
}

TEST_CASE("a truncated download fails and leaves nothing", "[url]") {
  Fixture f;
  Server server;
  Server::Response cut{200, f.bundle};
  cut.send_only = f.bundle.size() / 2;
  server.Set("/k.tar.zst", cut);
  auto r = f.Build(server.Url("/k.tar.zst"), f.sha);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message(), Catch::Contains("'" + server.Url("/k.tar.zst") + "'"));
  CHECK(r.error().code() == Code::kCorruption);  // CURLE_PARTIAL_FILE
  CHECK_THAT(r.error().message(), Catch::Contains("transfer closed"));
  f.RequireNothingLeft();
}

TEST_CASE("HTTP 404 fails with the URL and leaves nothing", "[url]") {
  Fixture f;
  Server server;
  auto r = f.Build(server.Url("/missing.tar.zst"), f.sha);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == Code::kNotFound);
  CHECK_THAT(r.error().message(), Catch::Contains("'" + server.Url("/missing.tar.zst") + "'"));
  CHECK_THAT(r.error().message(), Catch::Contains("404"));
  f.RequireNothingLeft();
}

TEST_CASE("a catalog entry from settings.kernel_catalog is fetched like a url", "[url]") {
  Fixture f;
  Server server;
  server.Set("/cat/k.tar.zst", {200, f.bundle});
  const std::string catalog = testing::WriteFile(
      f.root.path(), "catalog.json",
      R"({"kernels": [{"name": "lab", "version": "6.1.77-net", "url": ")" +
          server.Url("/cat/k.tar.zst") + R"(", "sha256": ")" + f.sha + R"("}]})");
  specs::KernelSpec spec;
  spec.name = "from-catalog";
  spec.source = specs::KernelSource::kCatalog;
  spec.catalog = "lab";
  specs::Settings settings;
  settings.kernel_catalog = catalog;
  auto r = f.store.Build(spec, settings, f.progress);
  REQUIRE(r.ok());
  CHECK(r->version == "6.1.77-net");
  auto shown = f.store.Show(r->digest);
  REQUIRE(shown.ok());
  CHECK_THAT(shown->manifest.source, Catch::Contains("catalog lab"));

  spec.catalog = "absent";
  auto missing = f.store.Build(spec, settings, f.progress);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code() == Code::kNotFound);
  CHECK_THAT(missing.error().message(), Catch::Contains("'absent'"));
}
