#include <catch2/catch.hpp>

#include "reconciler/oci/manifest.h"

using namespace banger;
using namespace banger::oci;

namespace {
const std::string kA = "sha256:" + std::string(64, 'a');
const std::string kB = "sha256:" + std::string(64, 'b');
const std::string kC = "sha256:" + std::string(64, 'c');

std::string Layer(const std::string& type, const std::string& digest, const std::string& extra = "") {
  return R"({"mediaType":")" + type + R"(","digest":")" + digest + R"(","size":10)" + extra + "}";
}

std::string ManifestWith(const std::string& layer) {
  return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
         R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
         kA + R"(","size":5},"layers":[)" + layer + "]}";
}

std::string IndexEntry(const std::string& digest, const std::string& arch,
                       const std::string& variant = "") {
  return R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + digest +
         R"(","size":100,"platform":{"os":"linux","architecture":")" + arch + R"(")" +
         (variant.empty() ? "" : R"(,"variant":")" + variant + R"(")") + "}}";
}
}  // namespace

TEST_CASE("manifests are classified by media type; schema1 is rejected clearly") {
  CHECK(*ClassifyManifest("application/vnd.oci.image.index.v1+json", R"({"manifests":[]})") ==
        ManifestKind::kIndex);
  CHECK(*ClassifyManifest("application/vnd.docker.distribution.manifest.list.v2+json",
                          R"({"schemaVersion":2,"manifests":[]})") == ManifestKind::kIndex);
  CHECK(*ClassifyManifest("application/vnd.docker.distribution.manifest.v2+json",
                          R"({"schemaVersion":2})") == ManifestKind::kManifest);
  // The body's mediaType wins over a generic Content-Type.
  CHECK(*ClassifyManifest("application/octet-stream",
                          R"({"mediaType":"application/vnd.oci.image.manifest.v1+json"})") ==
        ManifestKind::kManifest);
  auto s1 = ClassifyManifest("application/vnd.docker.distribution.manifest.v1+prettyjws",
                             R"({"schemaVersion":1,"fsLayers":[]})");
  REQUIRE_FALSE(s1.ok());
  CHECK(s1.error().message().find("schema1") != std::string::npos);
  CHECK_FALSE(ClassifyManifest("text/html", "<html>").ok());
  CHECK_FALSE(ClassifyManifest("application/vnd.example+json", R"({"a":1})").ok());
}

TEST_CASE("manifests decode strictly") {
  auto m = ParseManifest(ManifestWith(Layer("application/vnd.oci.image.layer.v1.tar+gzip", kB) + "," +
                                      Layer("application/vnd.docker.image.rootfs.diff.tar.gzip", kC)));
  REQUIRE(m.ok());
  CHECK(m->config.digest == kA);
  REQUIRE(m->layers.size() == 2);
  CHECK(m->layers[0].digest == kB);
  CHECK(m->layers[1].size == 10);

  auto foreign = ParseManifest(ManifestWith(
      Layer("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", kB)));
  REQUIRE_FALSE(foreign.ok());
  CHECK(foreign.error().message().find("foreign") != std::string::npos);
  auto urls = ParseManifest(ManifestWith(
      Layer("application/vnd.oci.image.layer.v1.tar", kB, R"(,"urls":["https://x.test/l"])")));
  REQUIRE_FALSE(urls.ok());
  CHECK(urls.error().message().find("urls") != std::string::npos);
  CHECK_FALSE(ParseManifest(ManifestWith(Layer("application/vnd.oci.image.layer.v1.tar",
                                               "sha256:" + std::string(64, 'G')))).ok());
  CHECK_FALSE(ParseManifest(ManifestWith(Layer("application/x-unknown", kB))).ok());
  CHECK_FALSE(ParseManifest(ManifestWith(
      R"({"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":")" + kB +
      R"(","size":-1})")).ok());
  CHECK_FALSE(ParseManifest("not json").ok());
}

TEST_CASE("the index entry for the requested platform is chosen") {
  auto index = ParseIndex(R"({"manifests":[)" + IndexEntry(kA, "amd64") + "," +
                          IndexEntry(kB, "arm64", "v8") + "," + IndexEntry(kC, "arm", "v7") + "]}");
  REQUIRE(index.ok());
  CHECK(SelectPlatform(*index, Platform{})->digest == kA);
  CHECK(SelectPlatform(*index, *Platform::Parse("linux/arm64"))->digest == kB);
  CHECK(SelectPlatform(*index, *Platform::Parse("linux/arm64/v8"))->digest == kB);
  CHECK(SelectPlatform(*index, *Platform::Parse("linux/arm/v7"))->digest == kC);
  auto none = SelectPlatform(*index, *Platform::Parse("linux/arm/v6"));
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().code() == Code::kNotFound);
  CHECK(none.error().message().find("linux/arm64/v8") != std::string::npos);
  // arm64 entries without a variant count as v8.
  auto plain = ParseIndex(R"({"manifests":[)" + IndexEntry(kB, "arm64") + "]}");
  CHECK(SelectPlatform(*plain, *Platform::Parse("linux/arm64/v8"))->digest == kB);
  CHECK_FALSE(Platform::Parse("linux").ok());
  CHECK(Platform::Parse("linux/amd64")->ToString() == "linux/amd64");
}

TEST_CASE("image configs yield what the image asks to run") {
  auto c = ParseImageConfig(
      R"({"os":"linux","architecture":"amd64","config":{"Env":["PATH=/bin","A=1"],)"
      R"("Entrypoint":["/init"],"Cmd":["run","x"],"User":"app","WorkingDir":"/w"},)"
      R"("rootfs":{"type":"layers","diff_ids":[")" + kA + R"("]}})");
  REQUIRE(c.ok());
  CHECK(c->env == std::vector<std::string>{"PATH=/bin", "A=1"});
  CHECK(c->entrypoint == std::vector<std::string>{"/init"});
  CHECK(c->cmd == std::vector<std::string>{"run", "x"});
  CHECK(c->user == "app");
  CHECK(c->working_dir == "/w");
  CHECK(c->diff_ids == std::vector<std::string>{kA});
  auto empty = ParseImageConfig(R"({"os":"linux","architecture":"amd64"})");
  REQUIRE(empty.ok());
  CHECK(empty->cmd.empty());
}
