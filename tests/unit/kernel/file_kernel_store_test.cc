#include <catch2/catch.hpp>

#include <unistd.h>

#include "reconciler/kernel/debian_packages.h"
#include "reconciler/kernel/digest.h"
#include "reconciler/kernel/file_kernel_store.h"
#include "reconciler/os/fs.h"
#include "tests/fixtures/kernel/kernel_fixtures.h"
#include "tests/support/test_env.h"

using namespace banger;
using namespace banger::kernel;

namespace {

// Records every command and answers from a script; unexpected commands
// fail the run.
class ScriptedRunner : public CommandRunner {
 public:
  std::map<std::string, ExecResult> answers;  // DescribeArgv -> result
  std::vector<std::string> ran;

  Result<ExecResult> Run(const ExecRequest& request) override {
    std::string cmd = DescribeArgv(request.argv);
    ran.push_back(cmd);
    auto it = answers.find(cmd);
    if (it == answers.end()) return Error(Code::kUnavailable, "unexpected command: " + cmd);
    return it->second;
  }
};

ExecResult Ok(std::string out) {
  ExecResult r;
  r.exit_code = 0;
  r.out = std::move(out);
  return r;
}

struct StoreDirs {
  TempDir root = testing::ScratchDir();
  std::string kernels = root.path() + "/kernels";
  std::string staging = root.path() + "/staging";
  std::string cache = root.path() + "/cache";

  // Every file left under a directory (recursively), relative names.
  std::vector<std::string> Files(const std::string& dir) {
    std::vector<std::string> out;
    if (!IsDirectory(dir)) return out;
    auto names = ListDir(dir);
    REQUIRE(names.ok());
    for (const auto& name : *names) {
      std::string p = dir + "/" + name;
      if (IsDirectory(p)) {
        for (const auto& sub : Files(p)) out.push_back(name + "/" + sub);
      } else {
        out.push_back(name);
      }
    }
    return out;
  }
};

specs::KernelSpec UrlSpec(const std::string& url, const std::string& sha) {
  specs::KernelSpec s;
  s.name = "k";
  s.source = specs::KernelSource::kUrl;
  s.url = url;
  s.sha256 = sha;
  return s;
}

}  // namespace

TEST_CASE("a bundle with a wrong sha256 leaves nothing behind", "[store]") {
  StoreDirs d;
  testing::WriteTarZst(d.root.path() + "/k.tar.zst", {{"vmlinuz", 'f', "K"}});
  ScriptedRunner runner;
  FileKernelStore store(d.kernels, d.staging, d.cache, runner);
  apply::NullProgress progress;
  const std::string url = "file://" + d.root.path() + "/k.tar.zst";
  const std::string wrong(64, '0');
  auto r = store.Build(UrlSpec(url, wrong), {}, progress);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == Code::kCorruption);
  const std::string actual = *FileSha256(d.root.path() + "/k.tar.zst");
  CHECK_THAT(r.error().message(), Catch::Contains("kernel 'k'"));
  CHECK_THAT(r.error().message(), Catch::Contains("'" + url + "'"));
  CHECK_THAT(r.error().message(), Catch::Contains("expected " + wrong + ", got " + actual));
  CHECK(d.Files(d.kernels).empty());
  CHECK(d.Files(d.staging).empty());
  CHECK(d.Files(d.cache).empty());
  CHECK(runner.ran.empty());
}

TEST_CASE("a bundle whose kernel is a link to a host file is not published", "[store]") {
  StoreDirs d;
  testing::WriteTarZst(d.root.path() + "/k.tar.zst", {{"vmlinuz", 'l', "/etc/shadow"}});
  ScriptedRunner runner;
  FileKernelStore store(d.kernels, d.staging, d.cache, runner);
  apply::NullProgress progress;
  auto r = store.Build(UrlSpec("file://" + d.root.path() + "/k.tar.zst",
                               *FileSha256(d.root.path() + "/k.tar.zst")),
                       {}, progress);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message(), Catch::Contains("'vmlinuz' is a symlink"));
  CHECK(d.Files(d.kernels).empty());
  CHECK(d.Files(d.staging).empty());
}

TEST_CASE("links in a bundle are stored as links and never followed", "[store]") {
  StoreDirs d;
  // A file outside the bundle that a followed link would read: changing it
  // must not change the stored entry or its digest.
  const std::string outside = testing::WriteFile(d.root.path(), "outside/secret", "first");
  const std::string rel_out = "../../../../outside/secret";
  auto bundle = [&](const std::string& name) {
    testing::WriteTarZst(d.root.path() + "/" + name,
                         {{"vmlinuz", 'f', testing::FakeBzImage(testing::FakeVmlinux(), "6.1.0-x")},
                          {"initrd.img", 'f', "INITRD"},
                          {"modules/6.1.0-x/kernel/virtio.ko", 'f', testing::ModuleElf("virtio", "")},
                          {"modules/6.1.0-x/build", 'l', "/usr/src/linux-headers-6.1.0-x"},
                          {"modules/6.1.0-x/abs", 'l', outside},
                          {"modules/6.1.0-x/rel", 'l', rel_out},
                          {"modules/6.1.0-x/virtio_blk.ko", 'l', outside}});
    return "file://" + d.root.path() + "/" + name;
  };
  const std::string url = bundle("k.tar.zst");
  ScriptedRunner runner;
  FileKernelStore store(d.kernels, d.staging, d.cache, runner);
  apply::NullProgress progress;
  auto spec = UrlSpec(url, *FileSha256(d.root.path() + "/k.tar.zst"));
  auto r = store.Build(spec, {}, progress);
  INFO((r.ok() ? "" : r.error().message()));
  REQUIRE(r.ok());
  const std::string tree = r->dir + "/modules/6.1.0-x";
  CHECK(testing::LinkTarget(tree + "/build") == "/usr/src/linux-headers-6.1.0-x");
  CHECK(testing::LinkTarget(tree + "/abs") == outside);
  CHECK(testing::LinkTarget(tree + "/rel") == rel_out);
  CHECK(testing::LinkTarget(tree + "/virtio_blk.ko") == outside);
  CHECK(*ReadFile(tree + "/kernel/virtio.ko") == testing::ModuleElf("virtio", ""));
  CHECK(runner.ran.empty());  // the bundle's own initrd: no initramfs built

  auto shown = store.Show(r->digest);
  REQUIRE(shown.ok());
  const ManifestFile* build = shown->manifest.Find("modules/6.1.0-x/build");
  REQUIRE(build);
  CHECK(build->link == "/usr/src/linux-headers-6.1.0-x");
  CHECK(build->size == build->link.size());
  CHECK(build->sha256 == Sha256Hex(build->link));
  const ManifestFile* abs = shown->manifest.Find("modules/6.1.0-x/abs");
  REQUIRE(abs);
  CHECK(abs->size == outside.size());  // the target's text, not "first"
  CHECK(store.Present(*r));

  // The outside file changes; a fresh store builds the same entry.
  REQUIRE(AtomicWriteFile(outside, "something else entirely").ok());
  StoreDirs d2;
  FileKernelStore store2(d2.kernels, d2.staging, d2.cache, runner);
  auto again = store2.Build(spec, {}, progress);
  REQUIRE(again.ok());
  CHECK(again->digest == r->digest);
  CHECK(store.Present(*r));

  // A link retargeted by hand makes the entry not Present.
  REQUIRE(::unlink((tree + "/build").c_str()) == 0);
  REQUIRE(::symlink("/elsewhere", (tree + "/build").c_str()) == 0);
  CHECK_FALSE(store.Present(*r));
}

TEST_CASE("a path kernel's module tree keeps its links", "[store]") {
  StoreDirs d;
  testing::WriteFile(d.root.path(), "vmlinux.elf", testing::FakeVmlinux());
  testing::WriteFile(d.root.path(), "initrd.img", "INITRD");
  const std::string mods = d.root.path() + "/lib/modules/6.1.0-p";
  testing::WriteFile(mods, "kernel/virtio.ko", testing::ModuleElf("virtio", ""));
  REQUIRE(::symlink("/usr/src/linux-headers-6.1.0-p", (mods + "/build").c_str()) == 0);
  REQUIRE(::symlink("kernel/virtio.ko", (mods + "/alias.ko").c_str()) == 0);
  ScriptedRunner runner;
  FileKernelStore store(d.kernels, d.staging, d.cache, runner);
  apply::NullProgress progress;
  specs::KernelSpec spec;
  spec.name = "local";
  spec.source = specs::KernelSource::kPath;
  spec.path_kernel = d.root.path() + "/vmlinux.elf";
  spec.path_initrd = d.root.path() + "/initrd.img";
  spec.path_modules = mods;
  auto r = store.Build(spec, {}, progress);
  INFO((r.ok() ? "" : r.error().message()));
  REQUIRE(r.ok());
  CHECK(testing::LinkTarget(r->dir + "/modules/build") == "/usr/src/linux-headers-6.1.0-p");
  CHECK(testing::LinkTarget(r->dir + "/modules/alias.ko") == "kernel/virtio.ko");
  CHECK(store.Present(*r));
}

TEST_CASE("a bundle kernel is stored content-addressed and reused", "[store]") {
  StoreDirs d;
  const std::string vmlinux = testing::FakeVmlinux();
  testing::WriteTarZst(d.root.path() + "/k.tar.zst",
                       {{"bzImage", 'f', testing::FakeBzImage(vmlinux, "6.1.99-test")},
                        {"initrd.img", 'f', "INITRD"}});
  const std::string sha = *FileSha256(d.root.path() + "/k.tar.zst");
  ScriptedRunner runner;
  FileKernelStore store(d.kernels, d.staging, d.cache, runner);
  apply::NullProgress progress;
  auto spec = UrlSpec("file://" + d.root.path() + "/k.tar.zst", sha);
  auto r = store.Build(spec, {}, progress);
  REQUIRE(r.ok());
  CHECK(r->spec == spec);
  CHECK(r->version == "6.1.99-test");
  CHECK(r->dir == d.kernels + "/" + r->digest);
  CHECK(IsSha256Hex(r->digest));
  CHECK(d.Files(r->dir) ==
        std::vector<std::string>{"initrd.img", "manifest.json", "vmlinux", "vmlinuz"});
  CHECK(*ReadFile(r->dir + "/vmlinux") == vmlinux);
  CHECK(d.Files(d.staging).empty());
  CHECK(d.Files(d.cache + "/downloads") == std::vector<std::string>{sha});
  CHECK(store.Present(*r));

  auto boot = BootFiles(*r);
  CHECK(boot.vmlinuz == r->dir + "/vmlinuz");
  CHECK(boot.initrd == r->dir + "/initrd.img");

  auto listed = store.List();
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().manifest.version == "6.1.99-test");
  CHECK(listed->front().manifest.Find("vmlinuz")->size == ReadFile(r->dir + "/vmlinuz")->size());
  auto shown = store.Show(r->digest.substr(0, 12));
  REQUIRE(shown.ok());
  CHECK(shown->digest == r->digest);

  auto again = store.Build(spec, {}, progress);
  REQUIRE(again.ok());
  CHECK(again->digest == r->digest);
  CHECK(again->created_unix == r->created_unix);
  CHECK(store.List()->size() == 1);

  // A damaged entry is not Present.
  REQUIRE(AtomicWriteFile(r->dir + "/initrd.img", "X").ok());
  CHECK_FALSE(store.Present(*r));
  REQUIRE(store.Remove(*r).ok());
  CHECK_FALSE(PathExists(r->dir));
  CHECK_FALSE(store.Present(*r));
}

TEST_CASE("a path kernel without initrd or modules stores the kernel only", "[store]") {
  StoreDirs d;
  testing::WriteFile(d.root.path(), "vmlinux.elf", testing::FakeVmlinux());
  ScriptedRunner runner;
  FileKernelStore store(d.kernels, d.staging, d.cache, runner);
  apply::NullProgress progress;
  specs::KernelSpec spec;
  spec.name = "local";
  spec.source = specs::KernelSource::kPath;
  spec.path_kernel = d.root.path() + "/vmlinux.elf";
  auto r = store.Build(spec, {}, progress);
  REQUIRE(r.ok());
  CHECK(d.Files(r->dir) == std::vector<std::string>{"manifest.json", "vmlinux", "vmlinuz"});
  CHECK(r->version == "unknown");
  CHECK(runner.ran.empty());

  spec.path_kernel = d.root.path() + "/missing";
  auto missing = store.Build(spec, {}, progress);
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.error().message(), Catch::Contains("kernel 'local'"));
  CHECK_THAT(missing.error().message(), Catch::Contains("missing"));
}

TEST_CASE("a kernel metapackage resolves to its concrete image", "[deb]") {
  ScriptedRunner runner;
  runner.answers["apt-cache show --no-all-versions linux-image-cloud-amd64"] =
      Ok("Package: linux-image-cloud-amd64\nVersion: 6.1.192-2\n"
         "Depends: linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)\n");
  runner.answers["apt-cache show --no-all-versions linux-image-6.1.0-56-cloud-amd64"] =
      Ok("Package: linux-image-6.1.0-56-cloud-amd64\n"
         "Depends: kmod, linux-base (>= 4.3~), initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool\n");
  DebianPackages packages(runner, "/nonexistent");
  auto name = packages.ResolveKernelPackage("linux-image-cloud-amd64");
  REQUIRE(name.ok());
  CHECK(*name == "linux-image-6.1.0-56-cloud-amd64");
  CHECK(runner.ran == std::vector<std::string>{
                          "apt-cache show --no-all-versions linux-image-cloud-amd64",
                          "apt-cache show --no-all-versions linux-image-6.1.0-56-cloud-amd64"});
}

TEST_CASE("a cached .deb matching apt's sha256 is reused without downloading", "[deb]") {
  auto dir = testing::ScratchDir();
  const std::string file = "busybox-static_1%3a1.35.0-4_amd64.deb";
  testing::WriteFile(dir.path(), file, "cached deb");
  const std::string sha = *FileSha256(dir.path() + "/" + file);
  ScriptedRunner runner;
  runner.answers["apt-get download --print-uris busybox-static"] =
      Ok("'http://deb.debian.org/debian/pool/main/b/busybox/busybox-static_1.35.0-4_amd64.deb' " +
         file + " 10 SHA256:" + sha + "\n");
  DebianPackages packages(runner, dir.path());
  auto got = packages.Fetch("busybox-static");
  REQUIRE(got.ok());
  CHECK(*got == dir.path() + "/" + file);
  CHECK(runner.ran == std::vector<std::string>{"apt-get download --print-uris busybox-static"});

  // A damaged cache entry is dropped and fetched again (here: the scripted
  // download command is missing, so the fetch fails and names it).
  testing::WriteFile(dir.path(), file, "damaged");
  auto refetch = packages.Fetch("busybox-static");
  REQUIRE_FALSE(refetch.ok());
  CHECK_THAT(refetch.error().message(), Catch::Contains("apt-get download -q busybox-static"));
  CHECK_FALSE(PathExists(dir.path() + "/" + file));
  CHECK(*ListDir(dir.path()) == std::vector<std::string>{});
}

TEST_CASE("apt print-uris and Depends parsing", "[deb]") {
  auto f = ParsePrintUris("'http://h/p/x_1.0_amd64.deb' x_1.0_amd64.deb 1234 SHA256:" +
                              std::string(64, 'A') + "\n",
                          "x");
  REQUIRE(f.ok());
  CHECK(f->uri == "http://h/p/x_1.0_amd64.deb");
  CHECK(f->filename == "x_1.0_amd64.deb");
  CHECK(f->size == 1234);
  CHECK(f->sha256 == std::string(64, 'a'));
  CHECK_FALSE(ParsePrintUris("'http://h/x.deb' x.deb 1 MD5Sum:abc\n", "x").ok());
  CHECK_FALSE(ParsePrintUris("'http://h/x.deb' ../x.deb 1 SHA256:" + std::string(64, 'a'), "x").ok());
  CHECK(ParsePrintUris("", "x").error().code() == Code::kNotFound);

  CHECK(KernelImageDependency("Depends: linux-image-6.1.0-9-amd64 (= 6.1.1)\n") ==
        "linux-image-6.1.0-9-amd64");
  CHECK(KernelImageDependency("Depends: linux-image-amd64-signed | linux-image-6.1.0-9-amd64\n") ==
        "linux-image-6.1.0-9-amd64");
  CHECK(KernelImageDependency("Depends: kmod, linux-base\n").empty());
  CHECK(KernelImageDependency("Package: x\n").empty());
}
