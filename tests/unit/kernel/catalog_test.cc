#include <catch2/catch.hpp>

#include "reconciler/kernel/kernel_catalog.h"
#include "tests/support/test_env.h"

using namespace banger;
using namespace banger::kernel;

namespace {
const std::string kSha(64, 'a');
std::string Entry(const std::string& name, const std::string& url,
                  const std::string& sha = kSha, const std::string& extra = "") {
  return R"({"name":")" + name + R"(","version":"6.1.0-1","url":")" + url +
         R"(","sha256":")" + sha + "\"" + extra + "}";
}
}  // namespace

TEST_CASE("default catalog parses and names a Debian cloud kernel .deb", "[catalog]") {
  auto entries = ParseCatalog(DefaultCatalogJson(), "builtin");
  REQUIRE(entries.ok());
  REQUIRE(!entries->empty());
  const CatalogEntry& e = entries->front();
  CHECK(e.url.find("deb.debian.org") != std::string::npos);
  CHECK(e.is_deb());
  CHECK(e.sha256.size() == 64);
  CHECK(e.origin == "builtin");
}

TEST_CASE("catalog rejects malformed entries with the origin and index", "[catalog]") {
  struct Case {
    std::string json;
    std::string message;
  };
  std::vector<Case> cases = {
      {"[]", "top level must be an object"},
      {R"({"kernels": [], "extra": 1})", "unknown key 'extra'"},
      {R"({"kernels": [)" + Entry("a", "https://x/a.tar.zst", kSha, R"(,"colour":"red")") + "]}",
       "kernels[0]: unknown key 'colour'"},
      {R"({"kernels": [)" + Entry("a", "ftp://x/a.tar.zst") + "]}", "url must be http"},
      {R"({"kernels": [)" + Entry("a", "https://x/a", "12ab") + "]}", "sha256 must be 64 hex"},
      {R"({"kernels": [{"name":"a"}]})", "missing 'version'"},
      {R"({"kernels": [)" + Entry("a", "https://x/1") + "," + Entry("a", "https://x/2") + "]}",
       "kernels[1]: duplicate name 'a'"},
      {"{not json", "not valid JSON"},
  };
  for (const auto& c : cases) {
    INFO(c.json);
    auto r = ParseCatalog(c.json, "/etc/cat.json");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Code::kInvalidArgument);
    CHECK_THAT(r.error().message(), Catch::Contains("'/etc/cat.json'"));
    CHECK_THAT(r.error().message(), Catch::Contains(c.message));
  }
}

TEST_CASE("catalog digests are lowercased", "[catalog]") {
  auto r = ParseCatalog(R"({"kernels": [)" + Entry("a", "https://x/a", std::string(64, 'F')) + "]}",
                        "f");
  REQUIRE(r.ok());
  CHECK((*r)[0].sha256 == std::string(64, 'f'));
}

TEST_CASE("extra catalog entries override by name and append new ones", "[catalog]") {
  std::vector<CatalogEntry> base = {{"a", "1", "https://x/a1", kSha, "builtin"},
                                    {"b", "1", "https://x/b1", kSha, "builtin"}};
  std::vector<CatalogEntry> extra = {{"b", "2", "https://y/b2", kSha, "mine"},
                                     {"c", "1", "https://y/c1", kSha, "mine"}};
  auto merged = MergeCatalogs(base, extra);
  REQUIRE(merged.size() == 3);
  CHECK(merged[0].url == "https://x/a1");
  CHECK(merged[1].url == "https://y/b2");
  CHECK(merged[1].origin == "mine");
  CHECK(merged[2].name == "c");
}

TEST_CASE("LoadCatalog layers a file over the default", "[catalog]") {
  auto dir = testing::ScratchDir();
  auto defaults = ParseCatalog(DefaultCatalogJson(), "builtin");
  REQUIRE(defaults.ok());
  const std::string builtin_name = defaults->front().name;
  std::string path = testing::WriteFile(
      dir.path(), "catalog.json",
      R"({"kernels": [)" + Entry(builtin_name, "https://mirror.example/k.deb") + "," +
          Entry("custom", "http://127.0.0.1:1/k.tar.zst") + "]}");
  auto all = LoadCatalog(path);
  REQUIRE(all.ok());
  CHECK(all->size() == defaults->size() + 1);
  auto overridden = FindCatalogEntry(*all, builtin_name);
  REQUIRE(overridden.ok());
  CHECK(overridden->url == "https://mirror.example/k.deb");
  CHECK(overridden->origin == path);
  auto custom = FindCatalogEntry(*all, "custom");
  REQUIRE(custom.ok());
  CHECK_FALSE(custom->is_deb());

  auto missing = FindCatalogEntry(*all, "nope");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code() == Code::kNotFound);
  CHECK_THAT(missing.error().message(), Catch::Contains("custom"));

  auto no_file = LoadCatalog(dir.path() + "/absent.json");
  REQUIRE_FALSE(no_file.ok());
  CHECK_THAT(no_file.error().message(), Catch::Contains("absent.json"));
}
