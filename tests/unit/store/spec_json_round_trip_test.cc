// Every field of every spec kind survives ToJson -> text -> FromJson. The
// fixtures set each field to a non-default value, so a field that the
// encoder or decoder forgets comes back different and fails the comparison.
#include <catch2/catch.hpp>

#include "specs/spec_json.h"

using namespace banger;
using namespace banger::specs;
using nlohmann::json;

namespace {

// Through the text form, as the store and saved plans carry it.
json ViaText(const json& j) { return json::parse(j.dump()); }

Settings FullSettings() {
  Settings s;
  s.bridge = "br-lab";
  s.subnet = "10.9.0.0/16";
  s.vmm = "firecracker";
  s.state_dir = "~/lab-state";
  s.kernel_catalog = "/etc/banger/kernels.toml";
  s.image_max_size = 3 * kGiB + 5;
  s.image_max_files = 1234;
  s.where = {"lab.toml", 3, 1};
  return s;
}

KernelSpec FullKernel() {
  KernelSpec k;
  k.name = "k1";
  k.source = KernelSource::kUrl;
  k.deb = "linux-image-cloud-amd64";
  k.path_kernel = "/boot/vmlinuz";
  k.path_initrd = "/boot/initrd.img";
  k.path_modules = "/lib/modules/6.1";
  k.url = "https://example.test/k.tar.zst";
  k.sha256 = std::string(64, 'a');
  k.catalog = "debian-12";
  k.where = {"lab.toml", 10, 1};
  return k;
}

ImageSpec FullImage() {
  ImageSpec i;
  i.name = "img";
  i.source = ImageSource::kDebootstrap;
  i.oci = "docker.io/library/debian:12";
  i.platform = "linux/arm64";
  i.insecure = true;
  i.dir = "/srv/rootfs";
  i.tar = "/srv/rootfs.tar";
  i.suite = "bookworm";
  i.mirror = "http://deb.debian.org/debian";
  i.include = {"openssh-server", "curl"};
  i.size = 3 * kGiB + 7;
  return i;
}

FileSyncSpec FullFileSync() {
  FileSyncSpec f;
  f.name = "dotfiles";
  f.host = "~/.gitconfig";
  f.guest = "~/.gitconfig";
  f.mode = 0640;
  return f;
}

VmSpec FullVm() {
  VmSpec v;
  v.name = "web";
  v.image = "img";
  v.kernel = "k1";
  v.vcpus = 7;
  v.memory = 3 * kGiB;
  v.disk = 20 * kGiB + 512;
  v.nat = true;
  v.keep_work_disk = false;
  v.file_sync = {"dotfiles", "ssh"};
  v.labels = {{"team", "infra"}, {"tier", "front"}};
  v.ports = {{"0.0.0.0", 8080, 80, "tcp"}, {"127.0.0.1", 2222, 22, "tcp"},
             {"0.0.0.0", 5353, 53, "udp"}};
  v.workspace = WorkspaceSpec{"~/src/app", "main"};
  return v;
}

}  // namespace

TEST_CASE("settings round-trip with every field set and with defaults") {
  for (const Settings& s : {FullSettings(), Settings{}}) {
    auto back = SettingsFromJson(ViaText(ToJson(s)));
    REQUIRE(back.ok());
    CHECK(*back == s);
  }
  CHECK_FALSE(ToJson(Settings{}).contains("state_dir"));
  CHECK_FALSE(ToJson(Settings{}).contains("kernel_catalog"));
}

TEST_CASE("settings stored before the image limits existed decode with the defaults") {
  json old = ToJson(FullSettings());
  old.erase("image_max_size");
  old.erase("image_max_files");
  auto back = SettingsFromJson(ViaText(old));
  REQUIRE(back.ok());
  CHECK(back->image_max_size == 64 * kGiB);
  CHECK(back->image_max_files == 2'000'000);
  CHECK(back->bridge == "br-lab");
}

TEST_CASE("kernel specs round-trip for every source") {
  for (KernelSource src :
       {KernelSource::kDeb, KernelSource::kPath, KernelSource::kUrl, KernelSource::kCatalog}) {
    KernelSpec k = FullKernel();
    k.source = src;
    auto back = KernelFromJson(ViaText(ToJson(k)));
    REQUIRE(back.ok());
    CHECK(*back == k);
    CHECK(back->source == src);
  }
  KernelSpec minimal;
  minimal.name = "deb-kernel";
  minimal.deb = "linux-image-amd64";
  json j = ToJson(minimal);
  CHECK(j == json::parse(R"({"name":"deb-kernel","source":"deb","deb":"linux-image-amd64"})"));
  CHECK(KernelFromJson(j).value() == minimal);
}

TEST_CASE("image specs round-trip for every source, with and without size") {
  for (ImageSource src :
       {ImageSource::kOci, ImageSource::kDir, ImageSource::kTar, ImageSource::kDebootstrap}) {
    ImageSpec i = FullImage();
    i.source = src;
    auto back = ImageFromJson(ViaText(ToJson(i)));
    REQUIRE(back.ok());
    CHECK(*back == i);
  }
  ImageSpec unsized = FullImage();
  unsized.size.reset();
  unsized.include.clear();
  json j = ToJson(unsized);
  CHECK_FALSE(j.contains("size"));
  CHECK_FALSE(j.contains("include"));
  auto back = ImageFromJson(j);
  REQUIRE(back.ok());
  CHECK_FALSE(back->size.has_value());
  CHECK(*back == unsized);
}

TEST_CASE("file_sync specs round-trip with and without mode") {
  FileSyncSpec f = FullFileSync();
  CHECK(FileSyncFromJson(ViaText(ToJson(f))).value() == f);
  f.mode.reset();
  CHECK_FALSE(ToJson(f).contains("mode"));
  CHECK(FileSyncFromJson(ViaText(ToJson(f))).value() == f);
  f.mode = 0;  // set to zero is not the same as unset
  auto back = FileSyncFromJson(ViaText(ToJson(f)));
  REQUIRE(back->mode.has_value());
  CHECK(*back->mode == 0u);
}

TEST_CASE("vm specs round-trip, including empty lists and extreme sizes") {
  VmSpec v = FullVm();
  CHECK(VmFromJson(ViaText(ToJson(v))).value() == v);
  v.file_sync.clear();
  v.labels.clear();
  v.ports.clear();
  v.workspace = WorkspaceSpec{"/src/app", ""};
  v.memory = UINT64_MAX;
  v.vcpus = 1;
  CHECK(VmFromJson(ViaText(ToJson(v))).value() == v);
  CHECK(VmFromJson(ViaText(ToJson(VmSpec{}))).value() == VmSpec{});
  v.from_snapshot = "warm";
  CHECK(VmFromJson(ViaText(ToJson(v))).value() == v);
  CHECK_FALSE(ToJson(FullVm()).contains("from_snapshot"));
}

TEST_CASE("vm specs stored before published ports existed decode with none") {
  nlohmann::json j = ToJson(FullVm());
  j.erase("ports");
  auto back = VmFromJson(j);
  REQUIRE(back.ok());
  CHECK(back->ports.empty());
  j["ports"] = {"8080"};
  auto bad = VmFromJson(j);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code() == Code::kCorruption);
  CHECK(bad.error().message().find("vm 'web': ports: '8080' is not a port mapping") == 0);
}

TEST_CASE("vm specs without a workspace store none; a malformed one is corruption") {
  VmSpec v = FullVm();
  v.workspace.reset();
  CHECK_FALSE(ToJson(v).contains("workspace"));
  nlohmann::json j = ToJson(FullVm());
  j["workspace"] = {{"repo", "/src"}, {"ref", ""}, {"mode", "full"}};
  auto bad = VmFromJson(j);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code() == Code::kCorruption);
  CHECK(bad.error().message() == "vm 'web': workspace: unknown field 'mode'");
  j["workspace"] = "/src";
  CHECK(VmFromJson(j).error().message().find("vm 'web': workspace: expected an object") == 0);
}

TEST_CASE("source locations are not part of the canonical form") {
  KernelSpec a = FullKernel();
  KernelSpec b = FullKernel();
  b.where = {"other.toml", 99, 4};
  CHECK(ToJson(a).dump() == ToJson(b).dump());
  CHECK(KernelFromJson(ToJson(a))->where.file.empty());
  CHECK_FALSE(ToJson(FullSettings()).contains("where"));
}

TEST_CASE("desired state round-trips with all kinds, files and has_settings") {
  DesiredState d;
  d.files = {"/lab/a.toml", "/lab/b.toml"};
  d.settings = FullSettings();
  d.has_settings = true;
  d.kernels = {FullKernel()};
  d.images = {FullImage(), ImageSpec{}};
  d.file_syncs = {FullFileSync()};
  d.vms = {FullVm(), VmSpec{}};
  d.vms[1].name = "db";
  d.vms[1].from_snapshot = "warm";
  d.snapshots = {{"warm", "web", {}}};

  auto back = DesiredFromJson(ViaText(ToJson(d)));
  REQUIRE(back.ok());
  CHECK(back->files == d.files);
  CHECK(back->has_settings);
  CHECK(back->settings == d.settings);
  CHECK(back->kernels == d.kernels);
  CHECK(back->images == d.images);
  CHECK(back->file_syncs == d.file_syncs);
  CHECK(back->vms == d.vms);
  CHECK(back->snapshots == d.snapshots);

  DesiredState empty;
  auto back_empty = DesiredFromJson(ViaText(ToJson(empty)));
  REQUIRE(back_empty.ok());
  CHECK_FALSE(back_empty->has_settings);
  CHECK(back_empty->settings == Settings{});
  CHECK(back_empty->vms.empty());
}

TEST_CASE("the canonical text is deterministic") {
  // Equal values give equal text: the store relies on it to see that a Put
  // changed nothing.
  CHECK(ToJson(FullVm()).dump() == ToJson(FullVm()).dump());
  CHECK(ToJson(FullVm()).dump() == ViaText(ToJson(FullVm())).dump());
}
