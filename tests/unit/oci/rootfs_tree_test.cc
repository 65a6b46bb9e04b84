#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <catch2/catch.hpp>

#include "reconciler/image/rootfs_tree.h"
#include "reconciler/os/fs.h"
#include "tests/support/test_env.h"

using namespace banger;
using namespace banger::image;

TEST_CASE("Erase forgets a path and everything below it, nothing else") {
  RootfsTree tree("/staging");
  for (std::string p : {"", "etc", "etc/a", "etc/a/b", "etc/ab", "etc-x", "etcd"})
    tree.Set(p, EntryMeta{0, 0, S_IFDIR | 0755, 0, {}});
  tree.Erase("etc/a");
  CHECK(tree.Find("etc/a") == nullptr);
  CHECK(tree.Find("etc/a/b") == nullptr);
  CHECK(tree.Find("etc/ab") != nullptr);
  tree.Erase("etc");
  CHECK(tree.Find("etc") == nullptr);
  CHECK(tree.Find("etc/ab") == nullptr);
  CHECK(tree.Find("etc-x") != nullptr);
  CHECK(tree.Find("etcd") != nullptr);
  tree.Erase("");
  CHECK(tree.entries().empty());
}

TEST_CASE("metadata saves and loads exactly, binary xattrs and odd names included") {
  auto dir = testing::ScratchDir();
  RootfsTree tree(JoinPath(dir.path(), "root"));
  tree.Set("", EntryMeta{0, 0, S_IFDIR | 0755, 0, {}});
  tree.Set("usr/bin/ping",
           EntryMeta{0, 0, S_IFREG | 04755, 0,
                     {{"security.capability", std::string("\x01\0\0\x02\xff", 5)},
                      {"user.note", "hi"}}});
  tree.Set("dev/null", EntryMeta{0, 0, S_IFCHR | 0666, makedev(1, 3), {}});
  tree.Set(std::string("bad\xff\xfename"), EntryMeta{1000, 1000, S_IFREG | 0600, 0, {}});
  tree.Set("caf\xc3\xa9", EntryMeta{5, 6, S_IFLNK | 0777, 0, {}});
  std::string path = JoinPath(dir.path(), "meta.json");
  REQUIRE(tree.Save(path).ok());
  auto loaded = RootfsTree::Load(tree.root(), path);
  REQUIRE(loaded.ok());
  CHECK(loaded->root() == tree.root());
  CHECK(loaded->entries() == tree.entries());
}

TEST_CASE("loading refuses corrupt or unsafe metadata") {
  auto dir = testing::ScratchDir();
  auto load = [&](const std::string& text) {
    std::string path = testing::WriteFile(dir.path(), "m.json", text);
    return RootfsTree::Load("/r", path);
  };
  CHECK(load(R"({"version":1,"entries":[{"path":"a","uid":0,"gid":0,"mode":33188}]})").ok());
  for (std::string bad : {
           R"({"version":2,"entries":[]})",
           R"({"version":1,"entries":[{"path":"../x","uid":0,"gid":0,"mode":1}]})",
           R"({"version":1,"entries":[{"path":"/abs","uid":0,"gid":0,"mode":1}]})",
           R"({"version":1,"entries":[{"path":"a//b","uid":0,"gid":0,"mode":1}]})",
           R"({"version":1,"entries":[{"path":"a","uid":-1,"gid":0,"mode":1}]})",
           R"({"version":1,"entries":[{"path_hex":"zz","uid":0,"gid":0,"mode":1}]})",
           "{"}) {
    INFO(bad);
    auto r = load(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Code::kCorruption);
  }
  CHECK(RootfsTree::Load("/r", JoinPath(dir.path(), "missing.json")).error().code() ==
        Code::kNotFound);
}
