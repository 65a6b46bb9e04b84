// The files the CLI, the daemon and `banger status` share, and the event log.
#include <catch2/catch.hpp>

#include <unistd.h>

#include "reconciler/daemon/daemon_files.h"
#include "reconciler/daemon/event_log.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/process.h"
#include "tests/support/test_env.h"

using namespace banger;
using namespace banger::daemon;

TEST_CASE("applied spec files and the daemon status round-trip; bad files are named") {
  TempDir dir = testing::ScratchDir();
  auto none = ReadAppliedSpecs(dir.path());
  REQUIRE(none.ok());
  CHECK(none->empty());
  REQUIRE(WriteAppliedSpecs(dir.path(), {"/a/lab.toml", "/a/fleet"}).ok());
  auto files = ReadAppliedSpecs(dir.path());
  REQUIRE(files.ok());
  CHECK(*files == std::vector<std::string>{"/a/lab.toml", "/a/fleet"});

  REQUIRE(AtomicWriteFile(AppliedPath(dir.path()), R"({"files": ["rel.toml"]})").ok());
  auto rel = ReadAppliedSpecs(dir.path());
  REQUIRE_FALSE(rel.ok());
  CHECK_THAT(rel.error().message(), Catch::Contains("applied.json") && Catch::Contains("not absolute"));

  DaemonStatus s;
  s.pid = getpid();
  s.pid_start_ticks = ProcessStartTicks(s.pid);
  s.build = "0.1.0 (test)";
  s.started_at = 100;
  s.heartbeat_at = 150;
  s.interval_seconds = 10;
  s.vms["web"].restarts = 3;
  s.vms["web"].last_error = "boom";
  REQUIRE(WriteDaemonStatus(dir.path(), s).ok());
  auto back = ReadDaemonStatus(dir.path());
  REQUIRE(back.ok());
  REQUIRE(back->has_value());
  CHECK((*back)->vms["web"].restarts == 3);
  CHECK((*back)->vms["web"].last_error == "boom");
  CHECK(DaemonAlive(**back, 170));        // this process, recent heartbeat
  CHECK_FALSE(DaemonAlive(**back, 181));  // more than three intervals ago
  s.pid_start_ticks += 1;                 // a recycled PID is not the daemon
  CHECK_FALSE(DaemonAlive(s, 151));

  REQUIRE(AtomicWriteFile(StatusPath(dir.path()), R"({"pid": "x"})").ok());
  auto bad = ReadDaemonStatus(dir.path());
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code() == Code::kCorruption);
  CHECK_THAT(bad.error().message(), Catch::Contains("status.json"));
}

TEST_CASE("events append as lines, are read incrementally, and a torn line waits") {
  TempDir dir = testing::ScratchDir();
  REQUIRE(AppendEvent(dir.path(), {1000, "apply", "step-done", "vm.web", "create in 5 ms"}).ok());
  REQUIRE(AppendEvent(dir.path(), {2500, "daemon", "drift", "vm.web", "process not running"}).ok());
  auto all = ReadEvents(EventsPath(dir.path()), 0);
  REQUIRE(all.ok());
  REQUIRE(all->events.size() == 2);
  CHECK(FormatEventLine(all->events[1]) ==
        "1970-01-01T00:00:02.500Z daemon vm.web drift: process not running");

  // A writer caught mid-line: the reader stops before it and resumes there.
  auto text = ReadFile(EventsPath(dir.path()));
  REQUIRE(text.ok());
  REQUIRE(AtomicWriteFile(EventsPath(dir.path()), *text + R"({"time_ms": 3000, "sou)").ok());
  auto partial = ReadEvents(EventsPath(dir.path()), all->next_offset);
  REQUIRE(partial.ok());
  CHECK(partial->events.empty());
  CHECK(partial->next_offset == all->next_offset);

  REQUIRE(AtomicWriteFile(EventsPath(dir.path()), *text + "not json\n").ok());
  auto bad = ReadEvents(EventsPath(dir.path()), 0);
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.error().message(), Catch::Contains("events.jsonl") && Catch::Contains("not an event"));
}
