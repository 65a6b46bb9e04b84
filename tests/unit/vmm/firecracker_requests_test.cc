#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "reconciler/vmm/firecracker/api_client.h"
#include "reconciler/vmm/firecracker/api_requests.h"
#include "reconciler/vmm/firecracker/firecracker_driver.h"

namespace banger::vmm {
namespace {

using nlohmann::json;

LaunchConfig Config() {
  LaunchConfig c;
  c.name = "web";
  c.vcpus = 2;
  c.memory_bytes = 512ull << 20;
  c.kernel = "/k/vmlinux";
  c.initrd = "/k/initrd.img";
  c.cmdline = "console=ttyS0 reboot=k panic=1";
  c.drives = {{"rootfs", "/v/root.ext4", false, "raw"}, {"work", "/v/work.ext4", true, "raw"}};
  c.nets = {{"bg-web0", -1, "02:fc:00:00:00:01"}};
  c.run_dir = "/run/banger/web";
  c.want_channel = true;
  return c;
}

std::string Identity(const std::string& p) { return p; }

TEST_CASE("firecracker boot requests: full configuration, in order") {
  auto reqs = BuildBootRequests(Config(), "/run/banger/web/channel.sock", Identity);
  REQUIRE(reqs.ok());
  std::vector<ApiRequest> want = {
      {"PUT", "/machine-config", json{{"vcpu_count", 2}, {"mem_size_mib", 512}}},
      {"PUT", "/boot-source",
       json{{"kernel_image_path", "/k/vmlinux"},
            {"initrd_path", "/k/initrd.img"},
            {"boot_args", "console=ttyS0 reboot=k panic=1"}}},
      {"PUT", "/drives/rootfs",
       json{{"drive_id", "rootfs"}, {"path_on_host", "/v/root.ext4"},
            {"is_root_device", true}, {"is_read_only", false}}},
      {"PUT", "/drives/work",
       json{{"drive_id", "work"}, {"path_on_host", "/v/work.ext4"},
            {"is_root_device", false}, {"is_read_only", true}}},
      {"PUT", "/network-interfaces/eth0",
       json{{"iface_id", "eth0"}, {"host_dev_name", "bg-web0"}, {"guest_mac", "02:fc:00:00:00:01"}}},
      {"PUT", "/vsock", json{{"guest_cid", 3}, {"uds_path", "/run/banger/web/channel.sock"}}},
  };
  CHECK(*reqs == want);
  CHECK(InstanceStartRequest() ==
        ApiRequest{"PUT", "/actions", json{{"action_type", "InstanceStart"}}});
  CHECK(SendCtrlAltDelRequest().body == json{{"action_type", "SendCtrlAltDel"}});
}

TEST_CASE("firecracker boot requests: optional parts omitted, paths mapped") {
  LaunchConfig c = Config();
  c.initrd.clear();
  c.cmdline.clear();
  c.nets.clear();
  c.want_channel = false;
  c.drives.resize(1);
  auto reqs = BuildBootRequests(c, "", [](const std::string& p) { return "/jail" + p; });
  REQUIRE(reqs.ok());
  REQUIRE(reqs->size() == 3);
  CHECK((*reqs)[1].body == json{{"kernel_image_path", "/jail/k/vmlinux"}});
  CHECK((*reqs)[2].body["path_on_host"] == "/jail/v/root.ext4");
}

TEST_CASE("firecracker boot requests: values the API checks pass through") {
  LaunchConfig c = Config();
  c.vcpus = 0;
  auto reqs = BuildBootRequests(c, "/s", Identity);
  REQUIRE(reqs.ok());
  CHECK((*reqs)[0].body["vcpu_count"] == 0);
}

TEST_CASE("firecracker boot requests: what firecracker cannot do is refused here") {
  LaunchConfig c = Config();
  SECTION("qcow2") {
    c.drives[0].format = "qcow2";
    auto r = BuildBootRequests(c, "/s", Identity);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message() ==
          "vm 'web': drive 'rootfs': firecracker reads raw images only, not 'qcow2'");
  }
  SECTION("tap only as fd") {
    c.nets = {{"", 5, ""}};
    REQUIRE_FALSE(BuildBootRequests(c, "/s", Identity).ok());
  }
  SECTION("drive id unusable in a URL") {
    c.drives[0].id = "root/../x";
    REQUIRE_FALSE(BuildBootRequests(c, "/s", Identity).ok());
  }
}

TEST_CASE("fault messages are taken from the documented error body") {
  CHECK(FaultMessage(R"({"fault_message": "Invalid drive path"})") == "Invalid drive path");
  CHECK(FaultMessage("not json\n") == "not json");
  CHECK(FaultMessage(R"({"other": 1})") == R"({"other": 1})");
}

TEST_CASE("an unjailed launch runs firecracker with its API socket in the run directory") {
  CHECK(BuildFirecrackerArgv("/opt/fc/firecracker", "/run/banger/web/firecracker.sock") ==
        std::vector<std::string>{"/opt/fc/firecracker", "--api-sock",
                                 "/run/banger/web/firecracker.sock"});
}

}  // namespace
}  // namespace banger::vmm
