// The QEMU driver against real QEMU: Debian's cloud kernel boots (and
// panics, having no root disk, which is all these tests need).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "reconciler/os/fs.h"
#include "reconciler/vmm/console_logger.h"
#include "reconciler/os/process.h"
#include "reconciler/vmm/qemu/qemu_driver.h"
#include "reconciler/vmm/qemu/qmp_client.h"
#include "tests/integration/vmm/vmm_test_support.h"
#include "tests/support/test_env.h"

namespace banger::vmm {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

long Ms(Clock::duration d) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

TEST_CASE("qemu: probe finds the binary and an accelerator") {
  testing::AdoptDetachedProcesses();
  QemuDriver driver;
  DriverProbe probe = driver.Probe();
  INFO(probe.detail);
  REQUIRE(probe.available);
  CHECK(probe.version.find("QEMU emulator version") == 0);
  CHECK((probe.accel == "kvm" || probe.accel == "tcg"));
  WARN("accelerator: " << probe.accel << " (" << probe.detail << ")");
  CHECK(testing::LeftoverChildren().empty());
}

TEST_CASE("qemu: boot to the kernel banner, QMP answers, shutdown leaves nothing") {
  testing::AdoptDetachedProcesses();
  TempDir dir = testing::ScratchDir("banger-vmm-");
  LaunchConfig config = testing::KernelOnlyGuest("it-boot", JoinPath(dir.path(), "run"));
  QemuDriver driver;

  auto start = Clock::now();
  auto handles = driver.Launch(config);
  auto ready = Clock::now();
  REQUIRE(handles.ok());
  testing::StopOnExit guard(driver, *handles);
  CHECK(handles->vmm == "qemu");
  CHECK(handles->pid > 0);
  CHECK(handles->pid_start_ticks == ProcessStartTicks(handles->pid));
  CHECK(ProcessAlive(handles->pid, handles->pid_start_ticks));
  CHECK(handles->api_socket == JoinPath(config.run_dir, "qmp.sock"));
  CHECK(handles->console_log == config.console_log);
  if (!HostHasVhostVsock()) {
    CHECK(handles->channel_socket == JoinPath(config.run_dir, "channel.sock"));
    CHECK(PathExists(handles->channel_socket));
  }
  // Detached: its own session, stdin on /dev/null.
  CHECK(getsid(handles->pid) != getsid(0));
  char target[64] = {};
  std::string fd0 = "/proc/" + std::to_string(handles->pid) + "/fd/0";
  REQUIRE(readlink(fd0.c_str(), target, sizeof target - 1) > 0);
  CHECK(std::string(target) == "/dev/null");

  CHECK(testing::WaitForText(config.console_log, "Linux version", 60s));
  auto banner = Clock::now();
  WARN("accel " << handles->accel << ": launch to QMP ready " << Ms(ready - start)
                << " ms, to 'Linux version' " << Ms(banner - start) << " ms");

  {  // scoped: QMP serves one client at a time, Shutdown needs it next
    auto qmp = QmpClient::Connect(handles->api_socket, 5s);
    REQUIRE(qmp.ok());
    auto status = qmp->QueryStatus();
    REQUIRE(status.ok());
    CHECK(*status == "running");
  }

  // The guest has no userspace to act on the power button, so this also
  // exercises the kill after the grace period.
  auto stop_start = Clock::now();
  Status stopped = driver.Shutdown(*handles, 1000ms);
  REQUIRE(stopped.ok());
  CHECK(Ms(Clock::now() - stop_start) >= 1000);
  CHECK_FALSE(ProcessAlive(handles->pid, handles->pid_start_ticks));
  CHECK(driver.Shutdown(*handles, 100ms).ok());  // already gone: success
  CHECK(testing::LeftoverChildren().empty());
}

TEST_CASE("qemu: the console log stays under a small cap") {
  testing::AdoptDetachedProcesses();
  TempDir dir = testing::ScratchDir("banger-vmm-");
  LaunchConfig config = testing::KernelOnlyGuest("it-cap", JoinPath(dir.path(), "run"));
  // panic=1 reboots after the root-mount panic: the guest keeps printing.
  config.cmdline = testing::GuestCmdline("panic=1");
  config.console_log_cap = 16 * 1024;
  QemuDriver driver;
  auto handles = driver.Launch(config);
  REQUIRE(handles.ok());
  testing::StopOnExit guard(driver, *handles);

  // Sample the sizes until the log has rotated a few times (each rotation
  // changes console.log.1), checking the cap at every sample.
  const std::string log = config.console_log, rotated = log + ".1";
  size_t max_total = 0;
  int rotations_seen = 0;
  std::string last_rotated;
  const auto until = Clock::now() + 120s;
  while (rotations_seen < 4 && Clock::now() < until) {
    size_t total = testing::FileSize(log) + testing::FileSize(rotated);
    max_total = std::max(max_total, total);
    auto r = ReadFile(rotated);
    if (r.ok() && *r != last_rotated) {
      ++rotations_seen;
      last_rotated = *r;
    }
    std::this_thread::sleep_for(10ms);
  }
  CHECK(testing::WaitForText(log, "Kernel panic", 60s));
  REQUIRE(driver.Shutdown(*handles, 0ms).ok());
  WARN("console log: max combined size " << max_total << " bytes, rotations observed "
                                         << rotations_seen);
  CHECK(rotations_seen >= 4);
  CHECK(max_total <= 16 * 1024);
  CHECK(testing::FileSize(log) + testing::FileSize(rotated) <= 16 * 1024);
  CHECK(testing::LeftoverChildren().empty());
}

TEST_CASE("qemu: a VMM that dies during start is reported with its stderr") {
  testing::AdoptDetachedProcesses();
  TempDir dir = testing::ScratchDir("banger-vmm-");
  LaunchConfig config = testing::KernelOnlyGuest("it-fail", JoinPath(dir.path(), "run"));
  config.kernel = JoinPath(dir.path(), "no-such-kernel");
  QemuDriverOptions options = QemuDriverOptions::FromEnvironment();
  options.forced_accel = "tcg";
  QemuDriver driver(options);
  auto handles = driver.Launch(config);
  REQUIRE_FALSE(handles.ok());
  INFO(handles.error().message());
  CHECK(handles.error().message().find("start qemu for vm 'it-fail' (tcg): exited during start") == 0);
  CHECK(handles.error().message().find("no-such-kernel") != std::string::npos);
  CHECK(testing::LeftoverChildren().empty());
}

TEST_CASE("qemu: bad accelerator override and bad config fail before starting anything") {
  testing::AdoptDetachedProcesses();
  TempDir dir = testing::ScratchDir("banger-vmm-");
  LaunchConfig config = testing::KernelOnlyGuest("it-bad", JoinPath(dir.path(), "run"));
  QemuDriverOptions options;
  options.forced_accel = "hvf";
  auto handles = QemuDriver(options).Launch(config);
  REQUIRE_FALSE(handles.ok());
  CHECK(handles.error().message() == "vm 'it-bad': BANGER_ACCEL='hvf': expected 'kvm' or 'tcg'");

  options.forced_accel = "tcg";
  config.vcpus = 0;
  handles = QemuDriver(options).Launch(config);
  REQUIRE_FALSE(handles.ok());
  CHECK(handles.error().code() == Code::kInvalidArgument);
  CHECK_FALSE(PathExists(JoinPath(config.run_dir, "console.log")));
  CHECK(testing::LeftoverChildren().empty());
}

TEST_CASE("qemu: the KVM probe tells why KVM is not used") {
  std::string why = ProbeKvm(SystemRunner(), "qemu-system-x86_64");
  auto choice = ChooseAccel(SystemRunner(), "qemu-system-x86_64", "");
  REQUIRE(choice.ok());
  CHECK(choice->accel == (why.empty() ? "kvm" : "tcg"));
  CHECK_FALSE(choice->forced);
  if (!why.empty()) WARN("KVM probe: " << why);
  auto forced = ChooseAccel(SystemRunner(), "qemu-system-x86_64", "tcg");
  REQUIRE(forced.ok());
  CHECK(forced->forced);
  CHECK(forced->accel == "tcg");
}

TEST_CASE("qemu: forced KVM on a host whose KVM rejects the guest fails cleanly") {
  std::string why = ProbeKvm(SystemRunner(), "qemu-system-x86_64");
  if (why.empty()) return;  // KVM works here: nothing to observe
  testing::AdoptDetachedProcesses();
  TempDir dir = testing::ScratchDir("banger-vmm-");
  LaunchConfig config = testing::KernelOnlyGuest("it-kvm", JoinPath(dir.path(), "run"));
  QemuDriverOptions options;
  options.forced_accel = "kvm";
  auto handles = QemuDriver(options).Launch(config);
  REQUIRE_FALSE(handles.ok());
  INFO(handles.error().message());
  CHECK(handles.error().message().find("start qemu for vm 'it-kvm' (kvm): exited during start") == 0);
  CHECK(testing::LeftoverChildren().empty());
}

}  // namespace
}  // namespace banger::vmm
