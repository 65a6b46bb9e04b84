#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "reconciler/kernel/digest.h"
#include "reconciler/kernel/embedded_init.h"
#include "reconciler/kernel/initramfs.h"
#include "reconciler/os/fs.h"
#include "tests/fixtures/kernel/kernel_fixtures.h"
#include "tests/support/test_env.h"

using namespace banger;
using namespace banger::kernel;

namespace {

InitramfsContents Contents() {
  InitramfsContents c;
  c.busybox = "\x7f" "ELF fake busybox";
  c.init_script = std::string(InitramfsInitScript());
  c.modules.push_back({"virtio", "", testing::ModuleElf("virtio", ""), {}});
  c.modules.push_back({"virtio_ring", "", testing::ModuleElf("virtio_ring", ""), {}});
  c.modules.push_back(
      {"virtio_blk", "", testing::ModuleElf("virtio_blk", "virtio,virtio_ring"), {"virtio", "virtio_ring"}});
  return c;
}

const ArchiveMember* Find(const std::vector<ArchiveMember>& all, const std::string& path) {
  for (const auto& m : all) {
    if (m.path == path) return &m;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("embedded init matches guest/initramfs/init", "[initramfs]") {
  auto file = ReadFile(testing::SourceDir() + "/guest/initramfs/init");
  REQUIRE(file.ok());
  // A mismatch means the binary holds a stale copy: rebuild embedded_init.cc.
  CHECK(std::string(InitramfsInitScript()) == *file);
  CHECK(file->compare(0, 10, "#!/bin/sh\n") == 0);
  CHECK_THAT(*file, Catch::Contains("BANGER-INITRAMFS-ERROR:"));
}

TEST_CASE("initramfs holds busybox, applets, modules in order, console and init", "[initramfs]") {
  auto dir = testing::ScratchDir();
  const std::string path = dir.path() + "/initrd.img";
  const InitramfsContents c = Contents();
  auto written = WriteInitramfs(c, path);
  INFO((written.ok() ? "" : written.error().message()));
  REQUIRE(written.ok());

  std::string head = ReadFile(path)->substr(0, 2);
  CHECK(head == "\x1f\x8b");  // gzip

  auto members = ListArchive(path, 1 << 20);
  REQUIRE(members.ok());
  const ArchiveMember* init = Find(*members, "init");
  REQUIRE(init);
  CHECK(S_ISREG(init->mode));
  CHECK((init->mode & 0777) == 0755);
  CHECK(init->data == c.init_script);

  const ArchiveMember* busybox = Find(*members, "bin/busybox");
  REQUIRE(busybox);
  CHECK(busybox->data == c.busybox);
  for (const auto& applet : InitramfsApplets()) {
    INFO(applet);
    const ArchiveMember* link = Find(*members, "bin/" + applet);
    REQUIRE(link);
    CHECK(S_ISLNK(link->mode));
    CHECK(link->symlink == "busybox");
  }
  for (const char* needed : {"sh", "insmod", "mount", "switch_root", "poweroff", "sleep"}) {
    CHECK(Find(*members, std::string("bin/") + needed));
  }

  const ArchiveMember* console = Find(*members, "dev/console");
  REQUIRE(console);
  CHECK(S_ISCHR(console->mode));
  CHECK(major(console->rdev) == 5);
  CHECK(minor(console->rdev) == 1);

  for (const char* d : {"proc", "sys", "dev", "newroot", "lib/modules"}) {
    const ArchiveMember* m = Find(*members, d);
    REQUIRE(m);
    CHECK(S_ISDIR(m->mode));
  }
  for (const auto& m : c.modules) {
    const ArchiveMember* ko = Find(*members, "lib/modules/" + m.name + ".ko");
    REQUIRE(ko);
    CHECK(ko->data == m.elf);
  }
  const ArchiveMember* order = Find(*members, "lib/modules/load-order");
  REQUIRE(order);
  CHECK(order->data == "virtio\nvirtio_ring\nvirtio_blk\n");
}

TEST_CASE("initramfs output is reproducible", "[initramfs]") {
  auto dir = testing::ScratchDir();
  REQUIRE(WriteInitramfs(Contents(), dir.path() + "/a").ok());
  REQUIRE(WriteInitramfs(Contents(), dir.path() + "/b").ok());
  CHECK(*FileSha256(dir.path() + "/a") == *FileSha256(dir.path() + "/b"));
}

TEST_CASE("initramfs refuses inputs it cannot boot", "[initramfs]") {
  auto dir = testing::ScratchDir();
  InitramfsContents no_busybox = Contents();
  no_busybox.busybox.clear();
  CHECK_FALSE(WriteInitramfs(no_busybox, dir.path() + "/x").ok());
  InitramfsContents no_shebang = Contents();
  no_shebang.init_script = "echo hi\n";
  CHECK_FALSE(WriteInitramfs(no_shebang, dir.path() + "/y").ok());
}
