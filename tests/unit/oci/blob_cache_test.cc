// The blob cache on temp files: nothing is published under a digest its
// content does not have.
#include <catch2/catch.hpp>

#include "reconciler/oci/blob_cache.h"
#include "reconciler/os/fs.h"
#include "tests/support/test_env.h"

using namespace banger;
using namespace banger::oci;

namespace {
Descriptor Desc(const std::string& content) {
  return Descriptor{"application/octet-stream", Sha256Digest(content), content.size(), std::nullopt};
}
}  // namespace

TEST_CASE("blobs are published only when digest and size match") {
  auto dir = testing::ScratchDir();
  auto cache = BlobCache::Open(dir.path());
  REQUIRE(cache.ok());
  CHECK(PathExists(JoinPath(dir.path(), "oci/oci-layout")));
  CHECK(PathExists(JoinPath(dir.path(), "oci/index.json")));
  const Descriptor good = Desc("hello");

  SECTION("wrong content") {
    auto w = cache->Begin(good);
    REQUIRE(w.ok());
    REQUIRE(w->Write("hellO", 5).ok());
    auto st = cache->Commit(std::move(w).value());
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code() == Code::kCorruption);
  }
  SECTION("short content") {
    auto w = cache->Begin(good);
    REQUIRE(w->Write("hell", 4).ok());
    CHECK_FALSE(cache->Commit(std::move(w).value()).ok());
  }
  SECTION("too much content is refused while writing") {
    auto w = cache->Begin(good);
    CHECK_FALSE(w->Write("hello!", 6).ok());
  }
  SECTION("abandoned writer") {
    auto w = cache->Begin(good);
    REQUIRE(w->Write("hel", 3).ok());
  }
  CHECK_FALSE(*cache->Verify(good));
  CHECK(*ListDir(JoinPath(dir.path(), "oci/blobs/sha256")) == std::vector<std::string>{});

  REQUIRE(cache->Put(good, "hello").ok());
  CHECK(*cache->Verify(good));
  CHECK(*cache->Read(good) == "hello");
  // Damage on disk is detected and the blob dropped.
  REQUIRE(AtomicWriteFile(cache->BlobPath(good.digest), "jello").ok());
  CHECK_FALSE(*cache->Verify(good));
  CHECK_FALSE(PathExists(cache->BlobPath(good.digest)));
}

TEST_CASE("the index records one manifest per reference name") {
  auto dir = testing::ScratchDir();
  auto cache = BlobCache::Open(dir.path());
  REQUIRE(cache.ok());
  Descriptor a = Desc("a"), b = Desc("b");
  REQUIRE(cache->Tag(a, "r.io/x:1").ok());
  REQUIRE(cache->Tag(b, "r.io/x:2").ok());
  REQUIRE(cache->Tag(b, "r.io/x:1").ok());
  CHECK((*cache->Lookup("r.io/x:1"))->digest == b.digest);
  CHECK((*cache->Lookup("r.io/x:2"))->digest == b.digest);
  CHECK_FALSE(cache->Lookup("r.io/x:3")->has_value());
  auto index = ReadFile(JoinPath(dir.path(), "oci/index.json"));
  size_t count = 0;
  for (size_t p = index->find("org.opencontainers.image.ref.name"); p != std::string::npos;
       p = index->find("org.opencontainers.image.ref.name", p + 1))
    ++count;
  CHECK(count == 2);
}
