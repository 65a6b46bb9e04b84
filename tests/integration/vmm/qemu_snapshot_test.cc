// QEMU snapshots against real QEMU: a kernel-only guest is paused, saved,
// resumed, and restored into a second QEMU; damaged and mismatched state
// fails cleanly with nothing left running.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "reconciler/os/fs.h"
#include "reconciler/os/process.h"
#include "reconciler/vmm/qemu/qemu_driver.h"
#include "reconciler/vmm/qemu/qmp_client.h"
#include "tests/integration/vmm/vmm_test_support.h"
#include "tests/support/test_env.h"

namespace banger::vmm {
namespace {

using namespace std::chrono_literals;

std::string Status(const model::VmHandles& h) {
  auto qmp = QmpClient::Connect(h.api_socket, 5s);
  if (!qmp.ok()) return "unreachable: " + qmp.error().message();
  auto s = qmp->QueryStatus();
  return s.ok() ? *s : "error: " + s.error().message();
}

// Saves a running kernel-only guest into <dir>/state and stops it.
std::string SavedGuest(QemuDriver& driver, const std::string& dir, const LaunchConfig& config) {
  auto handles = driver.Launch(config);
  if (!handles.ok()) FAIL("launch: " << handles.error().message());
  testing::StopOnExit guard(driver, *handles);
  if (!testing::WaitForText(config.console_log, "Linux version", 60s)) FAIL("no kernel banner");
  const std::string state = JoinPath(dir, "state");
  REQUIRE(driver.Pause(*handles).ok());
  auto saved = driver.SaveState(*handles, {state, ""}, 60s);
  if (!saved.ok()) FAIL("save: " << saved.error().message());
  return state;
}

TEST_CASE("qemu snapshot: pause, save, resume; a second QEMU continues from the state") {
  testing::AdoptDetachedProcesses();
  TempDir dir = testing::ScratchDir("banger-snap-");
  LaunchConfig config = testing::KernelOnlyGuest("it-snap", JoinPath(dir.path(), "run"), 128ull << 20);
  QemuDriver driver;
  auto handles = driver.Launch(config);
  REQUIRE(handles.ok());
  testing::StopOnExit guard(driver, *handles);
  REQUIRE(testing::WaitForText(config.console_log, "Linux version", 60s));

  REQUIRE(driver.Pause(*handles).ok());
  CHECK(Status(*handles) == "paused");
  CHECK(driver.Pause(*handles).ok());  // paused again: success
  const std::string state = JoinPath(dir.path(), "state");
  CHECK(driver.SaveState(*handles, {state, JoinPath(dir.path(), "mem")}, 10s).error().code() ==
        Code::kInvalidArgument);
  auto saved = driver.SaveState(*handles, {state, ""}, 60s);
  REQUIRE(saved.ok());
  struct stat st {};
  REQUIRE(stat(state.c_str(), &st) == 0);
  CHECK(saved->state_bytes == static_cast<uint64_t>(st.st_size));
  CHECK(saved->state_bytes > (1u << 20));
  CHECK((st.st_mode & 0777) == 0600);
  WARN("saved " << saved->state_bytes << " bytes in " << saved->duration.count() << " ms");
  // The file exists now: a second save refuses to overwrite it.
  CHECK(driver.SaveState(*handles, {state, ""}, 10s).error().code() == Code::kAlreadyExists);
  REQUIRE(driver.Resume(*handles).ok());
  CHECK(Status(*handles) == "running");

  LaunchConfig copy = config;
  copy.run_dir = JoinPath(dir.path(), "run2");
  copy.console_log = JoinPath(copy.run_dir, "console.log");
  auto t0 = std::chrono::steady_clock::now();
  auto restored = driver.Restore(copy, {state, ""}, 60s);
  REQUIRE(restored.ok());
  testing::StopOnExit guard2(driver, *restored);
  WARN("restored in " << std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - t0).count() << " ms");
  CHECK(Status(*restored) == "running");
  CHECK(restored->pid != handles->pid);
  CHECK(restored->api_socket == JoinPath(copy.run_dir, "qmp.sock"));
  // It continued where the first one was: it never booted, so no banner.
  auto console = ReadFile(copy.console_log);
  CHECK((!console.ok() || console->find("Linux version") == std::string::npos));
  // The state file is only read.
  struct stat after {};
  REQUIRE(stat(state.c_str(), &after) == 0);
  CHECK(after.st_size == st.st_size);
  CHECK(driver.Shutdown(*restored, 0ms).ok());
  CHECK(driver.Shutdown(*handles, 0ms).ok());
  CHECK(testing::LeftoverChildren().empty());
}

TEST_CASE("qemu snapshot: truncated, empty and mismatched state fail cleanly") {
  testing::AdoptDetachedProcesses();
  TempDir dir = testing::ScratchDir("banger-snap-");
  LaunchConfig config = testing::KernelOnlyGuest("it-snap-bad", JoinPath(dir.path(), "run"), 128ull << 20);
  QemuDriver driver;
  const std::string state = SavedGuest(driver, dir.path(), config);
  auto size = ReadFile(state);
  REQUIRE(size.ok());

  LaunchConfig other = config;
  other.run_dir = JoinPath(dir.path(), "run2");
  other.console_log = JoinPath(other.run_dir, "console.log");

  SECTION("truncated") {
    REQUIRE(truncate(state.c_str(), static_cast<off_t>(size->size() / 2)) == 0);
    auto r = driver.Restore(other, {state, ""}, 30s);
    REQUIRE_FALSE(r.ok());
    WARN(r.error().message());
    CHECK(r.error().code() == Code::kCorruption);
    CHECK_THAT(r.error().message(), Catch::Contains("did not load"));
  }
  SECTION("empty") {
    REQUIRE(truncate(state.c_str(), 0) == 0);
    auto r = driver.Restore(other, {state, ""}, 30s);
    REQUIRE_FALSE(r.ok());
    WARN(r.error().message());
    CHECK(r.error().code() == Code::kCorruption);
  }
  SECTION("other memory size") {
    other.memory_bytes = 256ull << 20;
    auto r = driver.Restore(other, {state, ""}, 30s);
    REQUIRE_FALSE(r.ok());
    WARN(r.error().message());
    CHECK_THAT(r.error().message(), Catch::Contains("did not load"));
  }
  SECTION("a device the state does not have") {
    other.want_channel = false;
    auto r = driver.Restore(other, {state, ""}, 30s);
    REQUIRE_FALSE(r.ok());
    WARN(r.error().message());
  }
  CHECK(testing::LeftoverChildren().empty());
}

}  // namespace
}  // namespace banger::vmm
