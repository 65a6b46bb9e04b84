// banger doctor [-f SPEC] [--state-dir DIR] [--json]: checks what a boot
// needs on this host and says how to fix each gap. Exit 0 when VMs can
// boot, 1 otherwise.
#include <unistd.h>

#include <iostream>
#include <sstream>
#include <nlohmann/json.hpp>

#include "reconciler/cli/cli.h"
#include "reconciler/cli/session.h"
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

// The checks' results, rendered as text or JSON once all ran.
class Report {
 public:
  void Ok(const std::string& what, const std::string& detail) { Add("ok", what, detail, ""); }
  void Warn(const std::string& what, const std::string& detail, const std::string& fix) {
    Add("warn", what, detail, fix);
  }
  void Fail(const std::string& what, const std::string& detail, const std::string& fix) {
    Add("fail", what, detail, fix);
    failed_ = true;
  }
  bool failed() const { return failed_; }

  void PrintText(Console& c) const {
    for (const auto& e : entries_) {
      std::string status = e["status"];
      c.out << (status == "fail" ? "FAIL" : status) << std::string(6 - status.size(), ' ')
            << e["check"].get<std::string>() << ": " << e["detail"].get<std::string>() << "\n";
      if (!e["fix"].get<std::string>().empty())
        c.out << "      fix: " << e["fix"].get<std::string>() << "\n";
    }
  }
  // {"ok": bool, "checks": [{"check", "status": ok|warn|fail, "detail", "fix"}]}
  nlohmann::json Json() const { return {{"ok", !failed_}, {"checks", entries_}}; }

 private:
  void Add(const char* status, const std::string& what, const std::string& detail,
           const std::string& fix) {
    entries_.push_back({{"check", what}, {"status", status}, {"detail", detail}, {"fix", fix}});
  }
  nlohmann::json entries_ = nlohmann::json::array();
  bool failed_ = false;
};

struct DoctorArgs {
  bool json = false;
  StateArgs state;
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
      {"dnsmasq", "dnsmasq-base", "the root helper answers <vm>.vm on each bridge with it"},
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

void CheckStateDir(Report& r, const StateArgs& args) {
  auto where = ResolveStateArgs(args);
  if (!where.ok()) {
    r.Fail("state dir", where.error().message(), "fix the spec, or pass --state-dir DIR");
    return;
  }
  const std::string& dir = where->dir;
  if (Status st = MakeDirs(dir, 0700); !st.ok()) {
    r.Fail("state dir", st.error().message() + " (chosen by " + where->source + ")",
           "pass --state-dir DIR, or set settings.state_dir in the spec or $BANGER_STATE_DIR");
    return;
  }
  auto probe = disk::ProbeCowMethods(dir);
  if (!probe.ok()) {
    r.Fail("state dir", probe.error().message(), "check the permissions of " + Quote(dir));
    return;
  }
  std::string detail = dir + " (" + where->source + ") on " + probe->fs_type;
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

// Guests resolve <vm>.vm through their bridge's resolver; the host needs a
// route for the .vm domain to it, which the helper sets where
// systemd-resolved runs.
// The links resolved routes ~vm on, read from `resolvectl domain` lines
// ("Link 4 (br0): ~vm"); empty when it cannot say.
std::vector<std::string> VmRoutedLinks(const std::string& resolvectl) {
  ExecRequest req;
  req.argv = {resolvectl, "domain"};
  req.timeout = std::chrono::seconds(5);
  auto done = SystemRunner().Run(req);
  std::vector<std::string> links;
  if (!done.ok() || !done->success()) return links;
  std::istringstream lines(done->out);
  std::string line;
  while (std::getline(lines, line)) {
    const size_t open = line.find(" ("), close = line.find("):");
    if (line.rfind("Link ", 0) != 0 || open == std::string::npos || close == std::string::npos ||
        close < open)
      continue;
    std::istringstream domains(line.substr(close + 2));
    for (std::string d; domains >> d;)
      if (d == "~vm") links.push_back(line.substr(open + 2, close - open - 2));
  }
  return links;
}

void CheckHostNames(Report& r) {
  const std::string resolvectl = FindProgram("resolvectl");
  if (PathExists("/run/systemd/resolve/io.systemd.Resolve") && !resolvectl.empty()) {
    const std::vector<std::string> links = VmRoutedLinks(resolvectl);
    std::string detail = "systemd-resolved runs: ";
    if (links.empty()) {
      detail += "no link routes ~vm yet (the helper routes each bridge it makes to its resolver)";
    } else {
      detail += "~vm is routed to";
      for (const auto& link : links) detail += " " + link;
      detail += " (a bridge answers while a VM runs on it)";
    }
    r.Ok("host names", detail);
    return;
  }
  r.Warn("host names", "systemd-resolved is not running, so the host does not resolve <vm>.vm "
                       "(guests do)",
         "point the host's resolver at the bridge address for the vm domain (dnsmasq: "
         "server=/vm/172.30.0.1), or run `banger ssh-config install` for `ssh <vm>.vm`");
}

int RunDoctor(Console& console, const DoctorArgs& args) {
  Report r;
  CheckVmms(r);
  CheckTools(r);
  CheckStateDir(r, args.state);
  CheckHelper(r);
  CheckHostNames(r);
  if (args.json) {
    console.out << r.Json().dump(2) << "\n";
    return r.failed() ? kExitError : kExitOk;
  }
  r.PrintText(console);
  console.out << (r.failed() ? "Some checks failed; VMs cannot boot until they are fixed.\n"
                             : "Everything a boot needs is here.\n");
  return r.failed() ? kExitError : kExitOk;
}

}  // namespace

void AddDoctorCommand(CLI::App& app, Console& console, Command& command) {
  auto args = std::make_shared<DoctorArgs>();
  CLI::App* cmd = app.add_subcommand("doctor", "check what booting VMs needs on this host");
  cmd->add_flag("--json", args->json, "JSON output");
  AddStateOptions(cmd, args->state);
  cmd->callback([&console, &command, args] {
    command.run = [&console, args] { return RunDoctor(console, *args); };
  });
}

}  // namespace banger::cli
