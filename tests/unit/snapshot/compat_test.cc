// The restore compatibility rules and the snapshot metadata codec.
#include <catch2/catch.hpp>

#include "reconciler/cli/snapshot_ops.h"
#include "reconciler/model/snapshot_meta.h"
#include "reconciler/snapshot/compat.h"

namespace banger::snapshot {
namespace {

model::SnapshotMeta Saved() {
  model::SnapshotMeta m;
  m.name = "warm";
  m.source_vm = "web";
  m.created_unix = 1700000000;
  m.vmm = "qemu";
  m.vmm_binary = "/usr/bin/qemu-system-x86_64";
  m.vmm_version = "QEMU emulator version 7.2.0 (Debian 1:7.2+dfsg-7)";
  m.machine = "microvm,acpi=on,rtc=on";
  m.accel = "tcg";
  m.kernel_name = "cloud";
  m.kernel_digest = "sha256:aaa";
  m.memory_bytes = 512ull << 20;
  m.vcpus = 1;
  m.cmdline = "console=ttyS0 root=/dev/vda";
  m.state_bytes = 100;
  m.state_sha256 = "sha256:sss";
  m.disks = {{"rootfs", "rootfs.qcow2", "qcow2", "/s/images/base/rootfs.ext4", "copy", 10, 4},
             {"work", "work.ext4", "raw", "", "reflink", 20, 8}};
  return m;
}

RestoreHost Same() {
  return {"qemu", "QEMU emulator version 7.2.0 (Debian 1:7.2+dfsg-7)", "microvm,acpi=on,rtc=on",
          "tcg", "sha256:aaa", 512ull << 20, 1};
}

TEST_CASE("compat: the same VMM, machine, kernel and size restore") {
  CHECK(Mismatches(Saved(), Same()).empty());
  CHECK(CheckCompatible(Saved(), Same()).ok());
  // Where the binary lives does not matter, its version does.
  model::SnapshotMeta moved = Saved();
  moved.vmm_binary = "/opt/qemu/bin/qemu-system-x86_64";
  CHECK(CheckCompatible(moved, Same()).ok());
}

TEST_CASE("compat: each difference is named, all at once") {
  struct Case {
    const char* what;
    void (*change)(RestoreHost&);
    const char* line;
  };
  const Case cases[] = {
      {"version", [](RestoreHost& h) { h.vmm_version = "QEMU emulator version 8.0.0"; },
       "vmm version: saved with 'QEMU emulator version 7.2.0 (Debian 1:7.2+dfsg-7)', this host "
       "runs 'QEMU emulator version 8.0.0'"},
      {"machine", [](RestoreHost& h) { h.machine = "q35"; },
       "machine: saved with 'microvm,acpi=on,rtc=on', this host runs 'q35'"},
      {"accel", [](RestoreHost& h) { h.accel = "kvm"; },
       "accelerator: saved with 'tcg', this host uses 'kvm'"},
      {"kernel", [](RestoreHost& h) { h.kernel_digest = "sha256:bbb"; },
       "kernel: saved with 'sha256:aaa', this VM boots 'sha256:bbb'"},
      {"memory", [](RestoreHost& h) { h.memory_bytes = 1ull << 30; },
       "memory: saved with 512 MiB, this VM has 1 GiB"},
      {"vcpus", [](RestoreHost& h) { h.vcpus = 2; }, "vcpus: saved with 1, this VM has 2"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    RestoreHost host = Same();
    c.change(host);
    CHECK(Mismatches(Saved(), host) == std::vector<std::string>{c.line});
  }
  RestoreHost both = Same();
  both.memory_bytes = 256ull << 20;
  both.vcpus = 4;
  Status st = CheckCompatible(Saved(), both);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code() == Code::kFailedPrecondition);
  CHECK(st.error().message() ==
        "snapshot 'warm' cannot be restored here: memory: saved with 512 MiB, this VM has "
        "256 MiB; vcpus: saved with 1, this VM has 4");
}

TEST_CASE("compat: another VMM is one mismatch, not a list of its facts") {
  RestoreHost fc = Same();
  fc.vmm = "firecracker";
  fc.vmm_version = "Firecracker v1.7.0";
  fc.machine = "firecracker";
  fc.accel = "kvm";
  CHECK(Mismatches(Saved(), fc) ==
        std::vector<std::string>{"vmm: saved with 'qemu', this VM runs under 'firecracker'"});
}

TEST_CASE("compat: sizes read as people write them") {
  CHECK(FormatBytes(0) == "0 B");
  CHECK(FormatBytes(512ull << 20) == "512 MiB");
  CHECK(FormatBytes(3ull << 29) == "1.5 GiB");
  CHECK(FormatBytes(65086768) == "62.1 MiB");
}

TEST_CASE("metadata: round trip, and strict reading") {
  const model::SnapshotMeta m = Saved();
  auto back = model::SnapshotMetaFromJson(model::SnapshotMetaToJson(m));
  REQUIRE(back.ok());
  CHECK(*back == m);

  auto with = [&](const char* key, nlohmann::json value) {
    nlohmann::json j = model::SnapshotMetaToJson(m);
    if (value.is_null()) j.erase(key);
    else j[key] = std::move(value);
    return model::SnapshotMetaFromJson(j);
  };
  auto missing = with("vmm_version", nullptr);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message() == "snapshot metadata: field 'vmm_version' is missing");
  auto typed = with("memory_bytes", "512M");
  REQUIRE_FALSE(typed.ok());
  CHECK(typed.error().message() ==
        "snapshot metadata: field 'memory_bytes' must be a non-negative integer");
  auto newer = with("format", 2);
  REQUIRE_FALSE(newer.ok());
  CHECK(newer.error().code() == Code::kFailedPrecondition);
  CHECK_THAT(newer.error().message(), Catch::Contains("written by a newer banger"));
  // File names are joined to the snapshot dir: nothing that leaves it.
  CHECK_FALSE(with("state_file", "../../etc/passwd").ok());
  CHECK_FALSE(with("state_file", "").ok());
  nlohmann::json j = model::SnapshotMetaToJson(m);
  j["disks"][0]["file"] = "/abs";
  CHECK_FALSE(model::SnapshotMetaFromJson(j).ok());
  j = model::SnapshotMetaToJson(m);
  j["disks"][1]["format"] = "vmdk";
  CHECK_FALSE(model::SnapshotMetaFromJson(j).ok());
  CHECK_FALSE(model::SnapshotMetaFromJson(nlohmann::json::array()).ok());
}

TEST_CASE("default snapshot names: <vm>-YYMMDD-HHMMSS in UTC, bounded") {
  auto n = cli::DefaultSnapshotName("web", 1700000000);  // 2023-11-14 22:13:20 UTC
  REQUIRE(n.ok());
  CHECK(*n == "web-231114-221320");
  CHECK_FALSE(cli::DefaultSnapshotName(std::string(20, 'a'), 1700000000).ok());
  CHECK(cli::DefaultSnapshotName(std::string(18, 'a'), 1700000000).ok());
}

}  // namespace
}  // namespace banger::snapshot
