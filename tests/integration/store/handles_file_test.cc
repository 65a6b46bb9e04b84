#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "reconciler/os/fs.h"
#include "reconciler/store/handles_file.h"
#include "tests/support/test_env.h"

using namespace banger;
using namespace banger::store;

namespace {

model::VmHandles Sample() {
  model::VmHandles h;
  h.vmm = "qemu";
  h.pid = 4242;
  h.pid_start_ticks = 98765432101ull;
  h.accel = "kvm";
  h.api_socket = "/state/vms/web/qmp.sock";
  h.channel_socket = "/state/vms/web/channel.sock";
  h.console_log = "/state/vms/web/console.log";
  h.tap = "bg-web0";
  h.mac = "52:54:00:12:34:56";
  h.rootfs = "/state/vms/web/rootfs.qcow2";
  h.cow_method = "qcow2";
  h.work_disk = "/state/vms/web/work.img";
  return h;
}

bool Same(const model::VmHandles& a, const model::VmHandles& b) {
  return a.vmm == b.vmm && a.pid == b.pid && a.pid_start_ticks == b.pid_start_ticks &&
         a.accel == b.accel && a.api_socket == b.api_socket &&
         a.channel_socket == b.channel_socket && a.console_log == b.console_log &&
         a.tap == b.tap && a.mac == b.mac && a.rootfs == b.rootfs &&
         a.cow_method == b.cow_method && a.work_disk == b.work_disk;
}

}  // namespace

TEST_CASE("handles round-trip through the file, private and without leftovers") {
  TempDir dir = banger::testing::ScratchDir();
  const std::string path = dir.path() + "/handles.json";
  REQUIRE(WriteHandles(path, Sample()).ok());
  auto back = ReadHandles(path);
  REQUIRE(back.ok());
  REQUIRE(back->has_value());
  CHECK(Same(**back, Sample()));

  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  // Replacing leaves the new content and no temp file beside it.
  model::VmHandles next = Sample();
  next.pid = 7;
  next.tap.clear();
  REQUIRE(WriteHandles(path, next).ok());
  CHECK(Same(ReadHandles(path).value().value(), next));
  CHECK(ListDir(dir.path()).value() == std::vector<std::string>{"handles.json"});
}

TEST_CASE("a missing handles file is not an error") {
  TempDir dir = banger::testing::ScratchDir();
  auto r = ReadHandles(dir.path() + "/nope/handles.json");
  REQUIRE(r.ok());
  CHECK_FALSE(r->has_value());
}

TEST_CASE("damaged handles files are corruption naming the file") {
  TempDir dir = banger::testing::ScratchDir();
  const std::string good = [&] {
    REQUIRE(WriteHandles(dir.path() + "/good.json", Sample()).ok());
    return ReadFile(dir.path() + "/good.json").value();
  }();
  struct Case {
    const char* what;
    std::string content;
    const char* mentions;
  };
  std::string no_pid = good;
  no_pid.replace(no_pid.find("\"pid\":"), 6, "\"pdi\":");
  std::string extra = good;
  extra.insert(1, "\"netns\": \"bg\",");
  std::string string_pid = good;
  string_pid.replace(string_pid.find("4242"), 4, "\"42\"");
  const Case cases[] = {
      {"garbage", "\x01\x02 not json", "not valid JSON"},
      {"truncated", good.substr(0, good.size() / 2), "not valid JSON"},
      {"array", "[1, 2]", "expected an object"},
      {"renamed field", no_pid, "missing field 'pid'"},
      {"extra field", extra, "unknown field 'netns'"},
      {"mistyped pid", string_pid, "field 'pid'"},
      {"missing field", "{\"vmm\": \"qemu\"}", "missing field"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    const std::string path = banger::testing::WriteFile(dir.path(), "bad.json", c.content);
    auto r = ReadHandles(path);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Code::kCorruption);
    CHECK_THAT(r.error().message(), Catch::Contains("handles file '" + path + "'"));
    CHECK_THAT(r.error().message(), Catch::Contains(c.mentions));
  }
}

TEST_CASE("a handles path that cannot be read is an I/O error") {
  TempDir dir = banger::testing::ScratchDir();
  auto r = ReadHandles(dir.path());  // a directory
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() != Code::kCorruption);
  CHECK_THAT(r.error().message(), Catch::Contains(dir.path()));

  Status w = WriteHandles(dir.path() + "/missing-dir/handles.json", Sample());
  REQUIRE_FALSE(w.ok());
  CHECK(w.error().code() == Code::kNotFound);
}
