// The Firecracker driver against the API double (tests/fixtures/firecracker),
// which checks every request against the project's Firecracker contract
// (schemas/firecracker-api-contract.json) and refuses anything outside it.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "reconciler/os/exec.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/detached_spawn.h"
#include "reconciler/vmm/firecracker/api_client.h"
#include "reconciler/vmm/firecracker/firecracker_driver.h"
#include "reconciler/os/process.h"
#include "reconciler/vmm/unix_socket.h"
#include "tests/integration/vmm/vmm_test_support.h"
#include "tests/support/test_env.h"

namespace banger::vmm {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// Points BANGER_FIRECRACKER at the double for the life of a test.
struct UseDouble {
  UseDouble() {
    REQUIRE(PathExists(testing::FirecrackerApiContract()));
    setenv("BANGER_FIRECRACKER", testing::FirecrackerDouble().c_str(), 1);
  }
  ~UseDouble() { unsetenv("BANGER_FIRECRACKER"); }
};

LaunchConfig Config(const std::string& run_dir) {
  LaunchConfig c;
  c.name = "fc-web";
  c.vcpus = 2;
  c.memory_bytes = 256ull << 20;
  c.kernel = "/images/vmlinux";
  c.initrd = "/images/initrd.img";
  c.cmdline = "console=ttyS0 reboot=k panic=1";
  c.drives = {{"rootfs", "/images/root.ext4", false, "raw"}, {"work", "/images/work.ext4", true, "raw"}};
  c.nets = {{"bg-fc0", -1, "02:fc:00:00:00:07"}};
  c.run_dir = run_dir;
  c.want_channel = true;
  return c;
}

json Entry(const std::string& method, const std::string& path, json body, int status = 204) {
  return json{{"method", method}, {"path", path}, {"body", std::move(body)}, {"status", status}};
}

TEST_CASE("firecracker: probe through BANGER_FIRECRACKER") {
  UseDouble fc;
  DriverProbe probe = FirecrackerDriver().Probe();
  CHECK(probe.binary == testing::FirecrackerDouble());
  CHECK(probe.version == "Firecracker v1.17.0-dev (API double)");
  if (access("/dev/kvm", R_OK | W_OK) == 0) {
    CHECK(probe.available);
    CHECK(probe.accel == "kvm");
  }
}

TEST_CASE("firecracker: the full boot sequence is accepted, in order") {
  testing::AdoptDetachedProcesses();
  UseDouble fc;
  TempDir dir = testing::ScratchDir("banger-fc-");
  const std::string run = JoinPath(dir.path(), "run");
  FirecrackerDriver driver;
  auto handles = driver.Launch(Config(run));
  REQUIRE(handles.ok());
  testing::StopOnExit guard(driver, *handles);
  CHECK(handles->vmm == "firecracker");
  CHECK(handles->accel == "kvm");
  CHECK(handles->api_socket == JoinPath(run, "firecracker.sock"));
  CHECK(handles->channel_socket == JoinPath(run, "channel.sock"));
  CHECK(handles->tap == "bg-fc0");
  CHECK(ProcessAlive(handles->pid, handles->pid_start_ticks));

  std::vector<json> want = {
      Entry("PUT", "/machine-config", {{"vcpu_count", 2}, {"mem_size_mib", 256}}),
      Entry("PUT", "/boot-source",
            {{"kernel_image_path", "/images/vmlinux"},
             {"initrd_path", "/images/initrd.img"},
             {"boot_args", "console=ttyS0 reboot=k panic=1"}}),
      Entry("PUT", "/drives/rootfs",
            {{"drive_id", "rootfs"}, {"path_on_host", "/images/root.ext4"},
             {"is_root_device", true}, {"is_read_only", false}}),
      Entry("PUT", "/drives/work",
            {{"drive_id", "work"}, {"path_on_host", "/images/work.ext4"},
             {"is_root_device", false}, {"is_read_only", true}}),
      Entry("PUT", "/network-interfaces/eth0",
            {{"iface_id", "eth0"}, {"host_dev_name", "bg-fc0"}, {"guest_mac", "02:fc:00:00:00:07"}}),
      Entry("PUT", "/vsock", {{"guest_cid", 3}, {"uds_path", JoinPath(run, "channel.sock")}}),
      Entry("PUT", "/actions", {{"action_type", "InstanceStart"}}),
  };
  CHECK(testing::DoubleRequestLog(run) == want);
  CHECK(testing::WaitForText(handles->console_log, "double: InstanceStart: kernel /images/vmlinux", 5s));

  // After InstanceStart the API refuses pre-boot configuration.
  FirecrackerApiClient api(handles->api_socket, 5s);
  Status late = api.Send({"PUT", "/drives/extra",
                          json{{"drive_id", "extra"}, {"path_on_host", "/x"},
                               {"is_root_device", false}, {"is_read_only", false}}});
  REQUIRE_FALSE(late.ok());
  CHECK(late.error().message() ==
        "firecracker: PUT /drives/extra: The requested operation is not supported after "
        "starting the microVM.");

  // The double exits on Ctrl-Alt-Del, as Firecracker does when its guest
  // powers off: the grace period is not used up.
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(driver.Shutdown(*handles, 10s).ok());
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  CHECK_FALSE(ProcessAlive(handles->pid, handles->pid_start_ticks));
  CHECK(testing::DoubleRequestLog(run).back() == Entry("PUT", "/actions", {{"action_type", "SendCtrlAltDel"}}));
  CHECK(testing::LeftoverChildren().empty());
}

TEST_CASE("firecracker: a request the API rejects fails the launch with its fault") {
  testing::AdoptDetachedProcesses();
  UseDouble fc;
  TempDir dir = testing::ScratchDir("banger-fc-");
  LaunchConfig config = Config(JoinPath(dir.path(), "run"));
  config.vcpus = 0;
  auto handles = FirecrackerDriver().Launch(config);
  REQUIRE_FALSE(handles.ok());
  CHECK(handles.error().message() ==
        "start firecracker for vm 'fc-web': firecracker: PUT /machine-config: "
        "body.vcpu_count: 0 is below the minimum of 1");
  CHECK(handles.error().code() == Code::kInvalidArgument);
  std::vector<json> log = testing::DoubleRequestLog(config.run_dir);
  REQUIRE(log.size() == 1);
  CHECK(log[0]["status"] == 400);
  CHECK(testing::LeftoverChildren().empty());
}

TEST_CASE("firecracker: the double enforces the schema and the boot order") {
  testing::AdoptDetachedProcesses();
  TempDir dir = testing::ScratchDir("banger-fc-");
  const std::string sock = JoinPath(dir.path(), "api.sock");
  DetachedCommand cmd;
  cmd.argv = {testing::FirecrackerDouble(), "--api-sock", sock, "--id", "ignored"};
  cmd.env = DefaultEnvironment();
  auto pid = SpawnDetached(cmd);
  REQUIRE(pid.ok());
  uint64_t ticks = ProcessStartTicks(*pid);
  for (int i = 0; i < 250 && !ConnectUnixSocket(sock).ok(); ++i)
    std::this_thread::sleep_for(20ms);

  FirecrackerApiClient api(sock, 5s);
  auto fault = [&](const ApiRequest& r) {
    Status s = api.Send(r);
    return s.ok() ? std::string("accepted") : s.error().message();
  };
  CHECK(fault({"PUT", "/machine-config", json{{"vcpu_count", 1}, {"mem_size_mib", 128}, {"foo", 1}}}) ==
        "firecracker: PUT /machine-config: body: unknown field `foo`, expected one of "
        "`cpu_template`, `huge_pages`, `mem_size_mib`, `smt`, `track_dirty_pages`, `vcpu_count`");
  CHECK(fault({"PUT", "/machine-config", json{{"vcpu_count", "2"}, {"mem_size_mib", 128}}}) ==
        "firecracker: PUT /machine-config: body.vcpu_count: invalid type, expected an integer");
  CHECK(fault({"PUT", "/boot-source", json{{"boot_args", "x"}}}) ==
        "firecracker: PUT /boot-source: body: missing field `kernel_image_path`");
  CHECK(fault({"PUT", "/actions", json{{"action_type", "Reboot"}}}) ==
        "firecracker: PUT /actions: body.action_type: unknown variant `Reboot`, expected one of "
        "`FlushMetrics`, `InstanceStart`, `SendCtrlAltDel`");
  CHECK(fault({"PUT", "/no-such-thing", json::object()}) ==
        "firecracker: PUT /no-such-thing: Invalid request method and/or path: PUT no-such-thing.");
  // Outside the contract even where Firecracker has the route: the driver
  // may send only what the contract covers.
  CHECK(fault({"PUT", "/logger", json{{"log_path", "/l"}}}) ==
        "firecracker: PUT /logger: Invalid request method and/or path: PUT logger.");
  CHECK(fault({"PUT", "/vsock", nullptr}) == "firecracker: PUT /vsock: Empty PUT request.");
  CHECK(fault({"PUT", "/drives/a-b", json{{"drive_id", "a-b"}, {"is_root_device", true}}}) ==
        "firecracker: PUT /drives/a-b: API Resource IDs can only contain alphanumeric characters "
        "and underscores.");
  CHECK(fault({"PUT", "/drives/a", json{{"drive_id", "b"}, {"is_root_device", true}}}) ==
        "firecracker: PUT /drives/a: The id from the path does not match the id from the body!");
  CHECK(fault(InstanceStartRequest()) ==
        "firecracker: PUT /actions: Cannot start microvm without kernel configuration.");
  CHECK(fault(SendCtrlAltDelRequest()) ==
        "firecracker: PUT /actions: The requested operation is not supported before starting "
        "the microVM.");
  CHECK(fault({"PUT", "/actions", json{{"action_type", "FlushMetrics"}}}) ==
        "firecracker: PUT /actions: The requested operation is not supported before starting "
        "the microVM.");
  // Firecracker boots with 1 vCPU and 128 MiB when machine-config was never
  // sent: only the boot source is needed.
  CHECK(fault({"PUT", "/boot-source", json{{"kernel_image_path", "/k"}}}) == "accepted");
  CHECK(fault(InstanceStartRequest()) == "accepted");
  CHECK(fault(InstanceStartRequest()) ==
        "firecracker: PUT /actions: The requested operation is not supported after starting "
        "the microVM.");
  // Pre-boot configuration after InstanceStart is a 400, as in Firecracker.
  auto late = api.Exchange({"PUT", "/machine-config", json{{"vcpu_count", 1}, {"mem_size_mib", 128}}});
  REQUIRE(late.ok());
  CHECK(late->status == 400);
  CHECK(FaultMessage(late->body) ==
        "The requested operation is not supported after starting the microVM.");
  CHECK(fault({"PUT", "/boot-source", json{{"kernel_image_path", "/k2"}}}) ==
        "firecracker: PUT /boot-source: The requested operation is not supported after starting "
        "the microVM.");
  auto info = api.Exchange({"GET", "/", nullptr});
  REQUIRE(info.ok());
  CHECK(info->status == 200);
  CHECK(json::parse(info->body)["state"] == "Running");

  REQUIRE(KillProcess(*pid, ticks).ok());
  CHECK(testing::LeftoverChildren().empty());
}

TEST_CASE("firecracker: a missing binary is reported, nothing starts") {
  testing::AdoptDetachedProcesses();
  setenv("BANGER_FIRECRACKER", "/nonexistent/firecracker", 1);
  FirecrackerDriver driver;
  unsetenv("BANGER_FIRECRACKER");
  DriverProbe probe = driver.Probe();
  CHECK_FALSE(probe.available);
  CHECK(probe.detail.find("'/nonexistent/firecracker' not found") != std::string::npos);
  TempDir dir = testing::ScratchDir("banger-fc-");
  auto handles = driver.Launch(Config(JoinPath(dir.path(), "run")));
  REQUIRE_FALSE(handles.ok());
  CHECK(handles.error().code() == Code::kUnavailable);
  CHECK(testing::LeftoverChildren().empty());
}

// Stands in for the root helper: starts the double as if jailed, with its
// API socket in a directory playing the jail root.
struct FakeJailLauncher : JailLauncher {
  std::string root;
  std::vector<JailLaunch> started;
  std::vector<std::string> removed;
  Result<JailedProcess> Start(const JailLaunch& launch) override {
    started.push_back(launch);
    REQUIRE(MakeDirs(root, 0700).ok());
    DetachedCommand command;
    command.argv = {testing::FirecrackerDouble(), "--api-sock", JoinPath(root, "firecracker.sock")};
    command.env = DefaultEnvironment();
    command.stdout_fd = launch.console_fd;
    command.stderr_fd = launch.console_fd;
    BANGER_ASSIGN_OR_RETURN(pid_t pid, SpawnDetached(command));
    return JailedProcess{pid, root};
  }
  Status Remove(const std::string& vm) override {
    removed.push_back(vm);
    return OkStatus();
  }
};

TEST_CASE("firecracker: a jailed launch goes through the launcher with in-jail paths") {
  testing::AdoptDetachedProcesses();
  REQUIRE(PathExists(testing::FirecrackerApiContract()));
  TempDir dir = testing::ScratchDir("banger-fc-");
  auto launcher = std::make_shared<FakeJailLauncher>();
  launcher->root = JoinPath(dir.path(), "jail/root");
  FirecrackerDriverOptions options;
  options.jail_launcher = launcher;
  FirecrackerDriver driver(options);
  LaunchConfig config = Config(JoinPath(dir.path(), "run"));
  config.jailed = true;
  auto handles = driver.Launch(config);
  REQUIRE(handles.ok());
  testing::StopOnExit guard(driver, *handles);
  CHECK(handles->jail == "fc-web");
  CHECK(handles->api_socket == JoinPath(launcher->root, "firecracker.sock"));
  CHECK(handles->channel_socket == JoinPath(launcher->root, "channel.sock"));
  REQUIRE(launcher->started.size() == 1);
  const JailLaunch& sent = launcher->started[0];
  CHECK(sent.vm == "fc-web");
  CHECK(sent.kernel == "/images/vmlinux");
  CHECK(sent.initrd == "/images/initrd.img");
  CHECK(sent.drives == std::vector<std::pair<std::string, std::string>>{
                           {"rootfs", "/images/root.ext4"}, {"work", "/images/work.ext4"}});
  // Firecracker is told the names inside the jail, never host paths.
  std::vector<json> log = testing::DoubleRequestLog(launcher->root);
  REQUIRE(log.size() == 7);
  CHECK(log[1]["body"]["kernel_image_path"] == "/vmlinux");
  CHECK(log[1]["body"]["initrd_path"] == "/initrd");
  CHECK(log[2]["body"]["path_on_host"] == "/drive-rootfs");
  CHECK(log[3]["body"]["path_on_host"] == "/drive-work");
  CHECK(log[5]["body"]["uds_path"] == "/channel.sock");
  CHECK(testing::WaitForText(handles->console_log, "double: InstanceStart: kernel /vmlinux", 5s));

  // Shutdown stops Firecracker, then has the jail removed.
  REQUIRE(driver.Shutdown(*handles, 10s).ok());
  CHECK_FALSE(ProcessAlive(handles->pid, handles->pid_start_ticks));
  CHECK(launcher->removed == std::vector<std::string>{"fc-web"});
  CHECK(testing::LeftoverChildren().empty());
}

TEST_CASE("firecracker: a jailed launch without a launcher is refused before anything runs") {
  TempDir dir = testing::ScratchDir("banger-fc-");
  LaunchConfig config = Config(JoinPath(dir.path(), "run"));
  config.jailed = true;
  auto handles = FirecrackerDriver(FirecrackerDriverOptions{}).Launch(config);
  REQUIRE_FALSE(handles.ok());
  CHECK(handles.error().code() == Code::kFailedPrecondition);
}

}  // namespace
}  // namespace banger::vmm
