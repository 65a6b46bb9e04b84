// Pulling from a real registry (docker-registry on 127.0.0.1): tags and
// digests, platform selection from an index, the blob cache, flattening.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "reconciler/oci/puller.h"
#include "reconciler/os/fs.h"
#include "tests/integration/oci/oci_fixtures.h"
#include "tests/support/test_env.h"

using namespace banger;
using namespace banger::testing;

namespace {

struct RecordingProgress : oci::PullProgress {
  std::map<std::string, bool> started;  // digest -> cached
  std::map<std::string, uint64_t> bytes;
  std::set<std::string> done;
  void LayerStarted(const oci::Descriptor& d, bool cached) override { started[d.digest] = cached; }
  void LayerBytes(const oci::Descriptor& d, uint64_t n) override {
    CHECK(n >= bytes[d.digest]);
    bytes[d.digest] = n;
  }
  void LayerDone(const oci::Descriptor& d) override { done.insert(d.digest); }
};

oci::Reference Ref(const std::string& text) {
  auto r = oci::ParseReference(text);
  REQUIRE(r.ok());
  return *r;
}

template <typename T>
std::string Message(const Result<T>& r) {
  return r.ok() ? "" : r.error().message();
}

}  // namespace

TEST_CASE("pull, cache and flatten a multi-layer image from a real registry") {
  const std::string& layout = FixtureLayout();
  pid_t registry_pid;
  {
    auto reg = OciRegistry::Start();
    registry_pid = reg->pid();
    PushLayout(layout, "v1", reg->host() + "/banger/base:v1");
    auto scratch = ScratchDir("banger-oci-pull-");
    oci::PullOptions opts = TestPullOptions(scratch.path());
    oci::Puller puller;
    RecordingProgress progress;
    auto ref = Ref(reg->host() + "/banger/base:v1");

    auto first = puller.Pull(ref, oci::Platform{}, opts, &progress);
    INFO(Message(first));
    REQUIRE(first.ok());
    CHECK(first->manifest_digest == LayoutDigest(layout, "v1"));
    REQUIRE(first->manifest.layers.size() == 3);
    CHECK(first->blobs_transferred == 4);  // config + 3 layers
    uint64_t expected = first->manifest.config.size;
    for (const auto& l : first->manifest.layers) expected += l.size;
    CHECK(first->bytes_transferred == expected);
    CHECK(first->config.env == std::vector<std::string>{"BANGER=1"});
    CHECK(first->config.entrypoint == std::vector<std::string>{"/bin/sh", "-c"});
    CHECK(first->config.cmd == std::vector<std::string>{"echo hi"});
    CHECK(first->config.user == "1000:1000");
    CHECK(first->config.working_dir == "/srv");
    for (const auto& l : first->manifest.layers) {
      CHECK(progress.started.at(l.digest) == false);
      CHECK(progress.bytes.at(l.digest) == l.size);
      CHECK(progress.done.count(l.digest) == 1);
    }

    // The cache is an OCI image layout naming the image.
    std::string oci_dir = JoinPath(opts.cache_dir, "oci");
    CHECK(PathExists(JoinPath(oci_dir, "oci-layout")));
    auto index = ReadFile(JoinPath(oci_dir, "index.json"));
    REQUIRE(index.ok());
    CHECK(index->find(ref.ToString()) != std::string::npos);
    CHECK(index->find(first->manifest_digest) != std::string::npos);
    for (const auto& p : first->layer_paths) CHECK(PathExists(p));
    CHECK(CacheIsClean(opts.cache_dir));

    // Flattened with whiteouts and opaque directories honoured.
    auto root = ScratchDir("banger-oci-rootfs-");
    image::RootfsTree tree(root.path());
    auto stats = oci::Flatten(*first, tree);
    INFO(Message(stats));
    REQUIRE(stats.ok());
    CHECK(Slurp(JoinPath(root.path(), "etc/added")) == "added\n");
    CHECK_FALSE(PathExists(JoinPath(root.path(), "gone")));
    CHECK_FALSE(PathExists(JoinPath(root.path(), "etc/hostname")));
    CHECK_FALSE(PathExists(JoinPath(root.path(), "data/old1")));
    CHECK(Slurp(JoinPath(root.path(), "data2/new")) == "new\n");
    CHECK(tree.Find("bin/su")->mode == (S_IFREG | 04755));

    // A second pull transfers no blobs.
    RecordingProgress again;
    auto second = puller.Pull(ref, oci::Platform{}, opts, &again);
    REQUIRE(second.ok());
    CHECK(second->bytes_transferred == 0);
    CHECK(second->blobs_transferred == 0);
    CHECK(second->manifest_digest == first->manifest_digest);
    for (const auto& l : second->manifest.layers) CHECK(again.started.at(l.digest) == true);

    // By digest: the same image, verified, nothing transferred.
    auto by_digest = puller.Pull(Ref(reg->host() + "/banger/base@" + first->manifest_digest),
                                 oci::Platform{}, opts);
    INFO(Message(by_digest));
    REQUIRE(by_digest.ok());
    CHECK(by_digest->layer_paths == first->layer_paths);
    CHECK(by_digest->bytes_transferred == 0);

    // A cached layer damaged on disk is noticed and fetched again.
    REQUIRE(AtomicWriteFile(first->layer_paths[1], "damaged").ok());
    auto repaired = puller.Pull(ref, oci::Platform{}, opts);
    REQUIRE(repaired.ok());
    CHECK(repaired->blobs_transferred == 1);
    CHECK(repaired->bytes_transferred == first->manifest.layers[1].size);
    CHECK(CacheIsClean(opts.cache_dir));
  }
  CHECK_FALSE(ProcessExists(registry_pid));
}

TEST_CASE("an image index yields the manifest for the requested platform") {
  const std::string& layout = FixtureLayout();
  auto reg = OciRegistry::Start();
  PushLayout(layout, "multi", reg->host() + "/banger/multi:v1");
  auto scratch = ScratchDir("banger-oci-multi-");
  oci::PullOptions opts = TestPullOptions(scratch.path());
  oci::Puller puller;
  auto ref = Ref(reg->host() + "/banger/multi:v1");
  for (std::string arch : {"amd64", "arm64"}) {
    INFO(arch);
    oci::Platform platform;
    platform.architecture = arch;
    auto r = puller.Pull(ref, platform, opts);
    INFO(Message(r));
    REQUIRE(r.ok());
    CHECK(r->manifest_digest == LayoutDigest(layout, arch));
    CHECK(r->index_digest == LayoutDigest(layout, "multi"));
    CHECK(r->config.architecture == arch);
    auto root = ScratchDir("banger-oci-rootfs-");
    image::RootfsTree tree(root.path());
    REQUIRE(oci::Flatten(*r, tree).ok());
    CHECK(Slurp(JoinPath(root.path(), "arch")) == arch + "\n");
  }
  oci::Platform s390x;
  s390x.architecture = "s390x";
  auto missing = puller.Pull(ref, s390x, opts);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code() == Code::kNotFound);
  CHECK(missing.error().message().find("linux/s390x") != std::string::npos);
  CHECK(missing.error().message().find("linux/arm64") != std::string::npos);
}

TEST_CASE("a missing tag or repository is reported as not found") {
  auto reg = OciRegistry::Start();
  auto scratch = ScratchDir("banger-oci-missing-");
  oci::Puller puller;
  auto r = puller.Pull(Ref(reg->host() + "/nobody/here:v9"), oci::Platform{},
                       TestPullOptions(scratch.path()));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == Code::kNotFound);
  CHECK(r.error().message().find("nobody/here:v9") != std::string::npos);
}
