#include <catch2/catch.hpp>

#include "specs/loader.h"
#include "tests/unit/specs/spec_test_util.h"

using namespace banger;
using namespace banger::specs;
using banger::specs::testing::Errors;
using banger::specs::testing::kBase;
using Lines = std::vector<std::string>;

TEST_CASE("A full spec decodes into typed desired state") {
  ParseOutcome out = ParseSpecText(R"(
[settings]
bridge = "br-lab"
subnet = "10.20.0.0/16"
vmm = "qemu"
state_dir = "state"
kernel_catalog = "~/catalog.toml"

[[kernel]]
name = "local"
path = { kernel = "k/vmlinux", initrd = "/boot/initrd.img", modules = "../mods" }

[[kernel]]
name = "remote"
url = "https://example.com/k.tar.zst"
sha256 = "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789"

[[image]]
name = "oci"
oci = "localhost:5000/dev/app:1.2"
platform = "linux/arm64/v8"
insecure = true
size = 536870912

[[image]]
name = "boot"
debootstrap = { suite = "bookworm", mirror = "https://deb.debian.org/debian", include = ["git"] }

[[file_sync]]
name = "keys"
host = "./keys"
guest = "~/.ssh/authorized_keys"
mode = "600"

[[vm]]
name = "web"
image = "oci"
kernel = "local"
vcpus = 4
memory = "2GiB"
disk = "10G"
nat = true
keep_work_disk = false
file_sync = ["keys"]
labels = { role = "web", "app.tier" = "front" }
)", "t.toml", "/specs/lab");
  CHECK(testing::Lines(out.errors).empty());
  REQUIRE(out.ok());
  CHECK(out.warnings.empty());
  const DesiredState& s = out.state;
  CHECK(s.has_settings);
  CHECK(s.settings.bridge == "br-lab");
  CHECK(s.settings.subnet == "10.20.0.0/16");
  CHECK(s.settings.vmm == "qemu");
  CHECK(s.settings.state_dir == "/specs/lab/state");
  CHECK(s.settings.kernel_catalog == "~/catalog.toml");

  REQUIRE(s.kernels.size() == 2);
  CHECK(s.kernels[0].source == KernelSource::kPath);
  CHECK(s.kernels[0].path_kernel == "/specs/lab/k/vmlinux");
  CHECK(s.kernels[0].path_initrd == "/boot/initrd.img");
  CHECK(s.kernels[0].path_modules == "/specs/mods");
  CHECK(s.kernels[1].source == KernelSource::kUrl);
  CHECK(s.kernels[1].sha256 ==
        "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");

  REQUIRE(s.images.size() == 2);
  CHECK(s.images[0].source == ImageSource::kOci);
  CHECK(s.images[0].platform == "linux/arm64/v8");
  CHECK(s.images[0].insecure);
  CHECK(s.images[0].size == 512 * kMiB);
  CHECK(s.images[1].source == ImageSource::kDebootstrap);
  CHECK(s.images[1].suite == "bookworm");
  CHECK(s.images[1].include == std::vector<std::string>{"git"});
  CHECK_FALSE(s.images[1].size.has_value());

  REQUIRE(s.file_syncs.size() == 1);
  CHECK(s.file_syncs[0].host == "/specs/lab/keys");
  CHECK(s.file_syncs[0].mode == 0600u);

  REQUIRE(s.vms.size() == 1);
  const VmSpec& vm = s.vms[0];
  CHECK(vm.vcpus == 4);
  CHECK(vm.memory == 2 * kGiB);
  CHECK(vm.disk == 10 * kGiB);
  CHECK(vm.nat);
  CHECK_FALSE(vm.keep_work_disk);
  CHECK(vm.labels == std::map<std::string, std::string>{{"app.tier", "front"}, {"role", "web"}});
  CHECK(vm.where.ToString() == "t.toml:35:1");
  CHECK(out.locations.at("vm.web.memory").ToString() == "t.toml:40:1");
  CHECK(out.locations.at("vm.web.file_sync[0]").ToString() == "t.toml:44:14");
}

TEST_CASE("Omitted keys take their defaults") {
  ParseOutcome out = ParseSpecText(std::string(kBase) + R"(
[[vm]]
name = "web"
image = "base"
kernel = "k"
)", "t.toml", "/specs");
  REQUIRE(out.ok());
  CHECK_FALSE(out.state.has_settings);
  CHECK(out.state.settings == Settings{});
  const VmSpec& vm = out.state.vms.at(0);
  CHECK(vm.vcpus == 2);
  CHECK(vm.memory == kGiB);
  CHECK(vm.disk == 4 * kGiB);
  CHECK_FALSE(vm.nat);
  CHECK(vm.keep_work_disk);
  CHECK(out.state.images.at(0).dir == "/specs/rootfs");
}

TEST_CASE("Image limits in [settings] default to 64G and 2000000 files") {
  ParseOutcome defaults = ParseSpecText("[settings]\nbridge = \"bg1\"\n", "t.toml", "/specs");
  REQUIRE(defaults.ok());
  CHECK(defaults.state.settings.image_max_size == 64 * kGiB);
  CHECK(defaults.state.settings.image_max_files == 2'000'000);

  ParseOutcome set = ParseSpecText(R"(
[settings]
image_max_size = "128G"
image_max_files = 5000000
)", "t.toml", "/specs");
  CHECK(testing::Lines(set.errors).empty());
  REQUIRE(set.ok());
  CHECK(set.state.settings.image_max_size == 128 * kGiB);
  CHECK(set.state.settings.image_max_files == 5'000'000);
  CHECK(set.locations.at("settings.image_max_size").ToString() == "t.toml:3:1");

  ParseOutcome bytes = ParseSpecText("[settings]\nimage_max_size = 1048576\n", "t.toml", "/");
  REQUIRE(bytes.ok());
  CHECK(bytes.state.settings.image_max_size == kMiB);
}

TEST_CASE("Bad image limits name the key and its position") {
  CHECK(Errors("[settings]\nimage_max_size = \"1.5G\"\n") ==
        Lines{"t.toml:2:18: settings.image_max_size: invalid size '1.5G': fractions are not "
              "allowed; use a smaller unit, e.g. '1536M' for 1.5G"});
  CHECK(Errors("[settings]\nimage_max_size = \"64 GB\"\n") ==
        Lines{"t.toml:2:18: settings.image_max_size: invalid size '64 GB': unknown unit 'GB'; "
              "use a whole number of bytes with an optional unit K, M, G, T (or KiB, MiB, GiB, "
              "TiB), e.g. '512M' or '2G'"});
  CHECK(Errors("[settings]\nimage_max_size = \"0G\"\n") ==
        Lines{"t.toml:2:18: settings.image_max_size: must be greater than 0"});
  CHECK(Errors("[settings]\nimage_max_size = -1\n") ==
        Lines{"t.toml:2:18: settings.image_max_size: invalid size -1: sizes cannot be "
              "negative"});
  CHECK(Errors("[settings]\nimage_max_files = 0\n") ==
        Lines{"t.toml:2:19: settings.image_max_files: must be at least 1, got 0"});
  CHECK(Errors("[settings]\nimage_max_files = -5\n") ==
        Lines{"t.toml:2:19: settings.image_max_files: must be at least 1, got -5"});
  CHECK(Errors("[settings]\nimage_max_files = \"1M\"\n") ==
        Lines{"t.toml:2:19: settings.image_max_files: expected an integer, got a string"});
}

TEST_CASE("Unknown keys are reported with the closest known key") {
  CHECK(Errors(std::string(kBase) + R"(
[[vm]]
name = "web"
image = "base"
kernel = "k"
memroy = "1G"
[vm.labels]
ok = "x"
[settings]
bridg = "bg1"
[[vms]]
)") == Lines{
      "t.toml:14:1: vm.web.memroy: unknown key 'memroy' (did you mean 'memory'?)",
      "t.toml:18:1: settings.bridg: unknown key 'bridg' (did you mean 'bridge'?)",
      "t.toml:19:3: vms: unknown key 'vms' (did you mean 'vm'?)",
  });
}

TEST_CASE("Wrong types name what was expected and what was found") {
  CHECK(Errors(std::string(kBase) + R"(
[[vm]]
name = "web"
image = "base"
kernel = "k"
vcpus = "2"
nat = "yes"
memory = 1.5
labels = ["a"]
file_sync = "hello"
)") == Lines{
      "t.toml:14:9: vm.web.vcpus: expected an integer, got a string",
      "t.toml:15:7: vm.web.nat: expected a boolean (true or false), got a string",
      "t.toml:16:10: vm.web.memory: expected a size (a string such as \"2G\" or a number of "
      "bytes), got a float",
      "t.toml:17:10: vm.web.labels: expected a table, got an array",
      "t.toml:18:13: vm.web.file_sync: expected an array of strings, got a string",
  });
}

TEST_CASE("Missing required keys point at the table header") {
  CHECK(Errors(R"(
[[vm]]
vcpus = 1

[[file_sync]]
name = "f"

[[kernel]]
name = "k"
path = { initrd = "i" }
)") == Lines{
      "t.toml:2:1: vm[0]: missing required key 'name'",
      "t.toml:2:1: vm[0]: missing required key 'image'",
      "t.toml:2:1: vm[0]: missing required key 'kernel'",
      "t.toml:5:1: file_sync.f: missing required key 'host'",
      "t.toml:5:1: file_sync.f: missing required key 'guest'",
      "t.toml:10:8: kernel.k.path: missing required key 'kernel'",
  });
}

TEST_CASE("Kernels and images need exactly one source") {
  CHECK(Errors(R"(
[[kernel]]
name = "none"

[[kernel]]
name = "two"
deb = "linux-image-amd64"
catalog = "x"

[[image]]
name = "base"
dir = "a"
tar = "b.tar"
oci = "debian"
)") == Lines{
      "t.toml:2:1: kernel.none: exactly one source of deb, path, url, catalog; found none",
      "t.toml:7:7: kernel.two.deb: conflicts with catalog: exactly one source of deb, path, "
      "url, catalog",
      "t.toml:8:11: kernel.two.catalog: conflicts with deb: exactly one source of deb, path, "
      "url, catalog",
      "t.toml:12:7: image.base.dir: conflicts with oci and tar: exactly one source of oci, dir, "
      "tar, debootstrap",
      "t.toml:13:7: image.base.tar: conflicts with oci and dir: exactly one source of oci, dir, "
      "tar, debootstrap",
      "t.toml:14:7: image.base.oci: conflicts with dir and tar: exactly one source of oci, dir, "
      "tar, debootstrap",
  });
}

TEST_CASE("Source companions: url needs sha256, platform and insecure need oci") {
  CHECK(Errors(R"(
[[kernel]]
name = "a"
url = "http://example.com/k.tar.zst"

[[kernel]]
name = "b"
deb = "linux-image-amd64"
sha256 = "00"

[[image]]
name = "c"
dir = "x"
platform = "linux/amd64"
insecure = true
)") == Lines{
      "t.toml:2:1: kernel.a: missing required key 'sha256': a url source needs the bundle's "
      "checksum",
      "t.toml:4:7: kernel.a.url: invalid url 'http://example.com/k.tar.zst': must start with "
      "https://",
      "t.toml:9:10: kernel.b.sha256: sha256 is only valid with url",
      "t.toml:9:10: kernel.b.sha256: invalid sha256 '00': expected 64 hexadecimal digits",
      "t.toml:14:12: image.c.platform: platform is only valid with oci",
      "t.toml:15:12: image.c.insecure: insecure is only valid with oci",
  });
}

TEST_CASE("Names, label keys and references are checked") {
  CHECK(Errors(std::string(kBase) + R"(
[[vm]]
name = "Web_1"
image = "bsae"
kernel = "k"

[[vm]]
name = "db"
image = "base"
kernel = "kk"
file_sync = ["nope", "Bad"]
labels = { "Role" = "x", ok = 1 }
)") == Lines{
      "t.toml:11:8: vm[0].name: invalid name 'Web_1': use 1 to 32 lowercase letters, digits "
      "and '-', starting with a letter or digit",
      "t.toml:18:1: vm.db.kernel: unknown kernel 'kk' (did you mean 'k'?)",
      "t.toml:19:14: vm.db.file_sync: unknown file_sync entry 'nope'",
      "t.toml:19:22: vm.db.file_sync[1]: invalid name 'Bad': use 1 to 32 lowercase letters, "
      "digits and '-', starting with a letter or digit",
      "t.toml:20:12: vm.db.labels.Role: invalid label key 'Role': use 1 to 63 lowercase "
      "letters, digits, '_', '.' and '-', starting with a letter or digit",
      "t.toml:20:31: vm.db.labels.ok: expected a string, got an integer",
  });
}

TEST_CASE("References may be satisfied by the store") {
  ParseOutcome out = ParseSpecText(R"(
[[vm]]
name = "web"
image = "bsae"
kernel = "k"
)", "t.toml", "/");
  REQUIRE(out.ok());
  std::vector<Diagnostic> errors;
  CheckReferences(out.state, KnownObjects{{"base"}, {"k"}}, &errors);
  REQUIRE(errors.size() == 1);
  // Without locations the VM's header is the best position there is.
  CHECK(errors[0].ToString() == "t.toml:2:1: vm.web.image: unknown image 'bsae' (did you "
                                "mean 'base'?)");
  errors.clear();
  CheckReferences(out.state, KnownObjects{{"bsae"}, {"k"}}, &errors);
  CHECK(errors.empty());
}

TEST_CASE("settings.jailer needs vmm = firecracker") {
  CHECK(Errors(R"(
[settings]
vmm = "auto"
jailer = true
)") == Lines{"t.toml:4:10: settings.jailer: needs vmm = \"firecracker\" (the jailer runs only "
              "Firecracker), not 'auto'"});
  ParseOutcome on = ParseSpecText("[settings]\nvmm = \"firecracker\"\njailer = true\n",
                                  "t.toml", "/specs");
  REQUIRE(on.ok());
  CHECK(on.state.settings.jailer);
  ParseOutcome off = ParseSpecText("[settings]\nvmm = \"qemu\"\njailer = false\n", "t.toml",
                                   "/specs");
  REQUIRE(off.ok());
  CHECK_FALSE(off.state.settings.jailer);
}

TEST_CASE("Value rules of every table are enforced") {
  CHECK(Errors(R"(
[settings]
bridge = "a-bridge-name-too-long"
subnet = "10.0.0.1/24"
vmm = "qemy"
state_dir = ""

[[image]]
name = "i"
oci = "debian bookworm"
size = "10M"

[[image]]
name = "j"
debootstrap = { suite = "Bookworm", mirror = "ftp://x", include = ["ok", "No!"] }

[[file_sync]]
name = "f"
host = "x"
guest = "/etc/passwd"
mode = "0999"
)") == Lines{
      "t.toml:3:10: settings.bridge: invalid interface name 'a-bridge-name-too-long': must "
      "be 1 to 15 characters",
      "t.toml:4:10: settings.subnet: invalid subnet '10.0.0.1/24': host bits are set (did "
      "you mean '10.0.0.0/24'?)",
      "t.toml:5:7: settings.vmm: unknown vmm 'qemy': expected 'auto', 'qemu' or "
      "'firecracker' (did you mean 'qemu'?)",
      "t.toml:6:13: settings.state_dir: must not be empty",
      "t.toml:10:7: image.i.oci: invalid OCI reference 'debian bookworm': expected "
      "[registry/]repository[:tag][@digest], e.g. 'docker.io/library/debian:bookworm'",
      "t.toml:11:8: image.i.size: size 10M is below the minimum of 64M",
      "t.toml:15:25: image.j.debootstrap.suite: invalid suite 'Bookworm': expected a Debian "
      "suite or codename such as 'bookworm'",
      "t.toml:15:46: image.j.debootstrap.mirror: invalid url 'ftp://x': must start with "
      "http:// or https://",
      "t.toml:15:74: image.j.debootstrap.include[1]: invalid package name 'No!': use "
      "lowercase letters, digits, '+', '.' and '-', starting with a letter or digit",
      "t.toml:20:9: file_sync.f.guest: invalid guest path '/etc/passwd': must be under /root "
      "(\"/root/...\" or \"~/...\")",
      "t.toml:21:8: file_sync.f.mode: invalid mode '0999': expected octal permission digits "
      "from '0000' to '0777', e.g. '0600'",
  });
}

TEST_CASE("Syntax errors carry toml++'s position and description") {
  Lines errors = Errors("[[vm]]\nname = \"web\nimage = 1\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].rfind("t.toml:2:", 0) == 0);
  CHECK(errors[0].find("TOML syntax error: ") != std::string::npos);
}

TEST_CASE("An unused file_sync entry is a warning, not an error") {
  ParseOutcome out = ParseSpecText(R"(
[[file_sync]]
name = "spare"
host = "h"
guest = "~/h"
)", "t.toml", "/");
  CHECK(out.ok());
  CHECK(testing::Lines(out.warnings) == Lines{"t.toml:2:1: file_sync.spare: not used by any vm"});
}

TEST_CASE("Published ports parse and bad ones are reported at their element") {
  ParseOutcome out = ParseSpecText(std::string(kBase) + R"(
[[vm]]
name = "web"
image = "base"
kernel = "k"
ports = ["8080:80", "127.0.0.1:2222:22/tcp", "5353:53/udp"]
)", "t.toml", "/specs");
  REQUIRE(out.ok());
  const auto& ports = out.state.vms.at(0).ports;
  REQUIRE(ports.size() == 3);
  CHECK(ports[0] == PortSpec{"0.0.0.0", 8080, 80, "tcp"});
  CHECK(ports[1] == PortSpec{"127.0.0.1", 2222, 22, "tcp"});
  CHECK(ports[2] == PortSpec{"0.0.0.0", 5353, 53, "udp"});

  CHECK(Errors(std::string(kBase) + R"(
[[vm]]
name = "web"
image = "base"
kernel = "k"
ports = ["80", "0:80", "8080:70000", "1.2.3:80:80", "80:80/sctp", "8080:81", "0.0.0.0:8080:82", 5]
)") == Lines{
      "t.toml:14:10: vm.web.ports[0]: '80' is not a port mapping (expected "
      "[host_address:]host_port:guest_port[/tcp|/udp])",
      "t.toml:14:16: vm.web.ports[1]: host port 0 is not 1-65535",
      "t.toml:14:24: vm.web.ports[2]: guest port 70000 is not 1-65535",
      "t.toml:14:38: vm.web.ports[3]: host address '1.2.3' is not an IPv4 address",
      "t.toml:14:53: vm.web.ports[4]: protocol 'sctp' is not tcp or udp",
      "t.toml:14:78: vm.web.ports[6]: '0.0.0.0:8080:82' claims the same host port as "
      "'8080:81/tcp'",
      "t.toml:14:97: vm.web.ports[7]: expected a string, got an integer",
  });
}

TEST_CASE("Port specs print in a form that parses back") {
  for (const char* text : {"8080:80/tcp", "127.0.0.1:2222:22/tcp", "5353:53/udp"}) {
    auto p = ParsePortSpec(text);
    REQUIRE(p.ok());
    CHECK(FormatPortSpec(*p) == text);
  }
  CHECK(PortSpecsCollide(*ParsePortSpec("8080:80"), *ParsePortSpec("127.0.0.1:8080:81")));
  CHECK_FALSE(PortSpecsCollide(*ParsePortSpec("8080:80"), *ParsePortSpec("8080:80/udp")));
  CHECK_FALSE(
      PortSpecsCollide(*ParsePortSpec("10.0.0.1:80:80"), *ParsePortSpec("10.0.0.2:80:80")));
}
