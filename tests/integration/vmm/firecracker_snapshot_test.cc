// Firecracker snapshots against the API double: the requests the driver
// sends for pause, save, resume and restore, in the order and shape the
// contract allows, and the refusals a bad restore meets.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reconciler/os/fs.h"
#include "reconciler/os/process.h"
#include "reconciler/vmm/firecracker/firecracker_driver.h"
#include "tests/integration/vmm/vmm_test_support.h"
#include "tests/support/test_env.h"

namespace banger::vmm {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

struct UseDouble {
  UseDouble() { setenv("BANGER_FIRECRACKER", testing::FirecrackerDouble().c_str(), 1); }
  ~UseDouble() { unsetenv("BANGER_FIRECRACKER"); }
};

LaunchConfig Config(const std::string& run_dir, const std::string& tap,
                    const std::string& disk_dir) {
  LaunchConfig c;
  c.name = "fc-snap";
  c.vcpus = 1;
  c.memory_bytes = 64ull << 20;
  c.kernel = "/images/vmlinux";
  c.cmdline = "console=ttyS0";
  c.drives = {{"rootfs", JoinPath(disk_dir, "root.ext4"), false, "raw"},
              {"work", JoinPath(disk_dir, "work.ext4"), false, "raw"}};
  c.nets = {{tap, -1, "02:fc:00:00:00:09"}};
  c.run_dir = run_dir;
  c.want_channel = true;
  return c;
}

// The logged requests without the double's fault messages.
std::vector<json> Requests(const std::string& run_dir) {
  std::vector<json> out;
  for (const json& e : testing::DoubleRequestLog(run_dir)) {
    out.push_back(json{{"method", e["method"]}, {"path", e["path"]}, {"body", e["body"]},
                       {"status", e["status"]}});
  }
  return out;
}

json Entry(const std::string& method, const std::string& path, json body, int status = 204) {
  return json{{"method", method}, {"path", path}, {"body", std::move(body)}, {"status", status}};
}

TEST_CASE("firecracker snapshot: pause, create, resume; a fresh process loads it onto other disks and tap") {
  testing::AdoptDetachedProcesses();
  UseDouble fc;
  TempDir dir = testing::ScratchDir("banger-fcsnap-");
  const std::string run = JoinPath(dir.path(), "run");
  FirecrackerDriver driver;
  auto handles = driver.Launch(Config(run, "bg-a0", "/disks/a"));
  REQUIRE(handles.ok());
  testing::StopOnExit guard(driver, *handles);
  const size_t booted = Requests(run).size();

  const SnapshotFiles files{JoinPath(dir.path(), "state"), JoinPath(dir.path(), "memory")};
  // Not paused yet: Firecracker refuses, and nothing is left behind.
  auto early = driver.SaveState(*handles, files, 5s);
  REQUIRE_FALSE(early.ok());
  CHECK_THAT(early.error().message(), Catch::Contains("not paused"));
  CHECK_FALSE(PathExists(files.state));
  CHECK_FALSE(PathExists(files.memory));

  REQUIRE(driver.Pause(*handles).ok());
  auto saved = driver.SaveState(*handles, files, 5s);
  REQUIRE(saved.ok());
  CHECK(saved->memory_bytes == (64u << 20));
  CHECK(saved->state_bytes > 0);
  CHECK(driver.SaveState(*handles, files, 5s).error().code() == Code::kAlreadyExists);
  REQUIRE(driver.Resume(*handles).ok());
  std::vector<json> log = Requests(run);
  log.erase(log.begin(), log.begin() + static_cast<long>(booted));
  CHECK(log == std::vector<json>{
                   Entry("PUT", "/snapshot/create",
                         {{"snapshot_type", "Full"}, {"snapshot_path", files.state},
                          {"mem_file_path", files.memory}}, 400),
                   Entry("PATCH", "/vm", {{"state", "Paused"}}),
                   Entry("PUT", "/snapshot/create",
                         {{"snapshot_type", "Full"}, {"snapshot_path", files.state},
                          {"mem_file_path", files.memory}}),
                   Entry("PATCH", "/vm", {{"state", "Resumed"}}),
               });

  const std::string run2 = JoinPath(dir.path(), "run2");
  auto restored = driver.Restore(Config(run2, "bg-b0", "/disks/b"), files, 5s);
  REQUIRE(restored.ok());
  testing::StopOnExit guard2(driver, *restored);
  CHECK(restored->tap == "bg-b0");
  CHECK(restored->api_socket == JoinPath(run2, "firecracker.sock"));
  CHECK(Requests(run2) ==
        std::vector<json>{
            Entry("PUT", "/snapshot/load",
                  {{"snapshot_path", files.state},
                   {"mem_backend", {{"backend_type", "File"}, {"backend_path", files.memory}}},
                   {"resume_vm", false},
                   {"network_overrides", {{{"iface_id", "eth0"}, {"host_dev_name", "bg-b0"}}}},
                   {"vsock_override", {{"uds_path", JoinPath(run2, "channel.sock")}}}}),
            Entry("PATCH", "/drives/rootfs",
                  {{"drive_id", "rootfs"}, {"path_on_host", "/disks/b/root.ext4"}}),
            Entry("PATCH", "/drives/work",
                  {{"drive_id", "work"}, {"path_on_host", "/disks/b/work.ext4"}}),
            Entry("PATCH", "/vm", {{"state", "Resumed"}}),
        });
  CHECK(driver.Shutdown(*restored, 5s).ok());
  CHECK(driver.Shutdown(*handles, 5s).ok());
  CHECK(testing::LeftoverChildren().empty());
}

TEST_CASE("firecracker snapshot: a damaged state or a drive the snapshot lacks fails the restore, nothing runs") {
  testing::AdoptDetachedProcesses();
  UseDouble fc;
  TempDir dir = testing::ScratchDir("banger-fcsnap-");
  const SnapshotFiles files{JoinPath(dir.path(), "state"), JoinPath(dir.path(), "memory")};
  FirecrackerDriver driver;
  {
    auto handles = driver.Launch(Config(JoinPath(dir.path(), "run"), "bg-a0", "/d"));
    REQUIRE(handles.ok());
    testing::StopOnExit guard(driver, *handles);
    REQUIRE(driver.Pause(*handles).ok());
    REQUIRE(driver.SaveState(*handles, files, 5s).ok());
  }
  LaunchConfig other = Config(JoinPath(dir.path(), "run2"), "bg-b0", "/e");
  SECTION("a drive the snapshot does not have") {
    other.drives.push_back({"extra", "/e/extra.ext4", false, "raw"});
    auto r = driver.Restore(other, files, 5s);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message(), Catch::Contains("PATCH /drives/extra"));
  }
  SECTION("a damaged state file") {
    REQUIRE(AtomicWriteFile(files.state, "{\"trunc", 0600).ok());
    auto r = driver.Restore(other, files, 5s);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message(), Catch::Contains("Load microVM snapshot error"));
  }
  SECTION("a missing memory file") {
    REQUIRE(unlink(files.memory.c_str()) == 0);
    auto r = driver.Restore(other, files, 5s);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Code::kNotFound);
  }
  SECTION("a jailed VM") {
    other.jailed = true;
    auto r = driver.Restore(other, files, 5s);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message(), Catch::Contains("jailer"));
  }
  CHECK(testing::LeftoverChildren().empty());
}

}  // namespace
}  // namespace banger::vmm
