// banger doctor: checks what a boot needs on this host and says how to fix
// each gap. Exit 0 when VMs can boot, 1 otherwise.
#include <unistd.h>

#include <iostream>

#include "reconciler/cli/cli.h"
#include "reconciler/disk/cow_method.h"
#include "reconciler/disk/fs_probe.h"
#include "reconciler/net/helper_client.h"
#include "reconciler/os/exec.h"
#include "reconciler/os/fs.h"
#include "reconciler/store/state_dir.h"
#include "reconciler/vmm/firecracker/firecracker_driver.h"
#include "reconciler/vmm/qemu/qemu_driver.h"

namespace banger::cli {
namespace {

class Report {
 public:
  explicit Report(Console& c) : c_(c) {}
  void Ok(const std::string& what, const std::string& detail) {
    c_.out << "ok    " << what << ": " << detail << "\n";
  }
  void Warn(const std::string& what, const std::string& detail, const std::string& fix) {
    c_.out << "warn  " << what << ": " << detail << "\n      fix: " << fix << "\n";
  }
  void Fail(const std::string& what, const std::string& detail, const std::string& fix) {
    c_.out << "FAIL  " << what << ": " << detail << "\n      fix: " << fix << "\n";
    failed_ = true;
  }
  bool failed() const { return failed_; }

 private:
  Console& c_;
  bool failed_ = false;
};

void CheckTools(Report& r) {
  struct Tool {
    const char* name;
    const char* package;
    const char* why;
  };
  const Tool tools[] = {
      {"mkfs.ext4", "e2fsprogs", "builds image root filesystems"},
      {"debugfs", "e2fsprogs", "sets owners/modes and writes files into disks"},
      {"resize2fs", "e2fsprogs", "grows work disks"},
      {"qemu-img", "qemu-utils", "makes qcow2 overlays"},
      {"apt-get", "apt", "fetches kernel packages"},
      {"dpkg-deb", "dpkg", "unpacks kernel packages"},
      {"debootstrap", "debootstrap", "builds debootstrap images"},
      {"fakechroot", "fakechroot", "runs debootstrap without root"},
      {"fakeroot", "fakeroot", "runs debootstrap without root"},
      {"ssh", "openssh-client", "`banger vm ssh`"},
      {"ssh-keygen", "openssh-client", "makes banger's SSH key"},
  };
  for (const auto& t : tools) {
    std::string path = FindProgram(t.name);
    if (path.empty()) r.Fail(t.name, std::string("not found (") + t.why + ")",
                             std::string("apt-get install ") + t.package);
    else r.Ok(t.name, path);
  }
  if (PathExists("/bin/busybox")) r.Ok("busybox", "/bin/busybox (initramfs)");
  else r.Fail("busybox", "/bin/busybox not found (initramfs)", "apt-get install busybox-static");
}

void CheckVmms(Report& r) {
  vmm::QemuDriver qemu;
  vmm::DriverProbe q = qemu.Probe();
  if (q.available) {
    r.Ok("qemu", q.binary + " (" + q.version + "), accelerator " + q.accel +
                     (q.detail.empty() ? "" : " (" + q.detail + ")"));
  } else {
    r.Fail("qemu", q.detail, "apt-get install qemu-system-x86");
  }
  vmm::FirecrackerDriver fc;
  vmm::DriverProbe f = fc.Probe();
  if (f.available) r.Ok("firecracker", f.binary + " " + f.version);
  else r.Warn("firecracker", f.detail,
              "optional: put firecracker in PATH (or $BANGER_FIRECRACKER); QEMU is used meanwhile");
}

void CheckStateDir(Report& r) {
  const std::string dir = store::StateDirFromProcess("");
  if (Status st = MakeDirs(dir, 0700); !st.ok()) {
    r.Fail("state dir", st.error().message(), "set settings.state_dir or $BANGER_STATE_DIR");
    return;
  }
  auto probe = disk::ProbeCowMethods(dir);
  if (!probe.ok()) {
    r.Fail("state dir", probe.error().message(), "check the permissions of " + Quote(dir));
    return;
  }
  std::string detail = dir + " on " + probe->fs_type;
  for (const char* vmm : {"qemu", "firecracker"}) {
    auto m = disk::ChooseCowMethod(vmm, *probe);
    if (m.ok()) detail += std::string("; ") + vmm + ": " + disk::DescribeCowMethod(*m, *probe);
  }
  r.Ok("state dir", detail);
}

void CheckHelper(Report& r) {
  auto client = net::HelperClient::Connect({});
  if (!client.ok()) {
    r.Fail("root helper", client.error().message(),
           "sudo banger helper serve --owner " + std::to_string(getuid()));
    return;
  }
  auto ping = client->Ping();
  if (ping.ok()) r.Ok("root helper", client->socket_path() + ", version " + ping->version);
  else r.Fail("root helper", ping.error().message(), "restart the helper");
}

int RunDoctor(Console& console) {
  Report r(console);
  CheckVmms(r);
  CheckTools(r);
  CheckStateDir(r);
  CheckHelper(r);
  console.out << (r.failed() ? "Some checks failed; VMs cannot boot until they are fixed.\n"
                             : "Everything a boot needs is here.\n");
  return r.failed() ? kExitError : kExitOk;
}

}  // namespace

void AddDoctorCommand(CLI::App& app, Console& console, Command& command) {
  app.add_subcommand("doctor", "check what booting VMs needs on this host")
      ->callback([&console, &command] { command.run = [&console] { return RunDoctor(console); }; });
}

}  // namespace banger::cli
