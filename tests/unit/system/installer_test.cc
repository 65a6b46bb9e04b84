// system install/uninstall against a recording runner, with every path in
// a temp dir: the exact systemctl commands, the files written and removed,
// the install record, and the refusals (another owner, --purge while a VM
// runs). The units themselves: the lines their behaviour depends on.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "helper/state_store.h"
#include "reconciler/os/fs.h"
#include "reconciler/system/installer.h"

using namespace banger;
using namespace banger::system;

namespace {

class RecordingRunner : public CommandRunner {
 public:
  std::vector<std::string> ran;
  std::map<std::string, std::string> outputs;  // command -> its stdout
  Result<ExecResult> Run(const ExecRequest& request) override {
    ran.push_back(DescribeArgv(request.argv));
    ExecResult r;
    r.exit_code = 0;
    if (auto it = outputs.find(ran.back()); it != outputs.end()) r.out = it->second;
    return r;
  }
};

bool Has(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

struct Fixture {
  TempDir dir = std::move(TempDir::Create("/tmp", "banger-system-test-").value());
  SystemPaths paths;
  InstallLayout layout;
  InstallSources sources;
  RecordingRunner runner;

  Fixture() {
    paths.unit_dir = JoinPath(dir.path(), "units");
    paths.record_path = JoinPath(dir.path(), "etc/banger/system.json");
    paths.runtime_dir = JoinPath(dir.path(), "run");
    paths.helper_state_dir = JoinPath(dir.path(), "helper-state");
    layout.owner = "alice";
    layout.owner_uid = 1500;
    layout.owner_gid = 1500;
    layout.bin_dir = JoinPath(dir.path(), "prefix/bin");
    layout.state_dir = JoinPath(dir.path(), "state");
    REQUIRE(MakeDirs(JoinPath(dir.path(), "dist")).ok());
    sources.banger = JoinPath(dir.path(), "dist/banger");
    sources.helper = JoinPath(dir.path(), "dist/banger-helper");
    REQUIRE(AtomicWriteFile(sources.banger, "banger binary", 0755).ok());
    REQUIRE(AtomicWriteFile(sources.helper, "helper binary", 0755).ok());
  }
  std::string Unit(const char* name) const { return JoinPath(paths.unit_dir, name); }
};

const std::vector<std::string> kInstallCommands = {
    "systemctl daemon-reload",
    "systemctl enable banger-helper.service banger-daemon.service",
    "systemctl restart banger-helper.service banger-daemon.service"};

}  // namespace

TEST_CASE("the helper unit runs the helper for the owner, hardened") {
  InstallLayout l{"alice", 1500, 1500, "/usr/local/bin", "/home/alice/.local/state/banger"};
  const std::string unit = RenderHelperUnit(l);
  CHECK(Has(unit, "ExecStart=/usr/local/bin/banger-helper serve --owner 1500 --state-dir "
                  "/var/lib/banger-helper"));
  CHECK(Has(unit, "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_BIND_SERVICE CAP_SETUID "
                  "CAP_SETGID CAP_KILL"));
  for (const char* line : {"Restart=always", "NoNewPrivileges=yes", "ProtectSystem=strict",
                           "ReadWritePaths=/proc/sys/net", "ProtectHome=yes", "PrivateTmp=yes",
                           "PrivateDevices=yes", "DeviceAllow=/dev/net/tun rw",
                           "RestrictAddressFamilies=AF_UNIX AF_NETLINK AF_INET AF_INET6",
                           "SystemCallFilter=@system-service", "RuntimeDirectory=banger",
                           "StateDirectory=banger-helper", "WantedBy=multi-user.target"}) {
    CHECK(Has(unit, line));
  }
  CHECK(unit.find("User=") == std::string::npos);
}

TEST_CASE("the daemon unit is a system service running as the owner") {
  InstallLayout l{"alice", 1500, 1501, "/opt/b/bin", "/srv/fleet"};
  const std::string unit = RenderDaemonUnit(l);
  CHECK(Has(unit, "User=alice"));
  CHECK(Has(unit, "Group=1501"));
  CHECK(Has(unit, "ExecStart=/opt/b/bin/banger daemon --state-dir /srv/fleet"));
  CHECK(Has(unit, "KillMode=process"));  // the fleet outlives a daemon restart
  CHECK(Has(unit, "CapabilityBoundingSet="));
  CHECK(Has(unit, "NoNewPrivileges=yes"));
  CHECK(Has(unit, "Wants=banger-helper.service"));
  CHECK(unit.find("Requires=") == std::string::npos);
  CHECK(Has(unit, "WantedBy=multi-user.target"));
}

TEST_CASE("paths a unit file cannot carry are refused, naming them") {
  CHECK(ValidateUnitPath("state dir", "/home/al ice/state").error().message().find(
            "'/home/al ice/state'") != std::string::npos);
  CHECK_FALSE(ValidateUnitPath("state dir", "/home/100%").ok());
  CHECK_FALSE(ValidateUnitPath("state dir", "relative/dir").ok());
  CHECK_FALSE(ValidateUnitPath("state dir", "/a/../b").ok());
  CHECK(ValidateUnitPath("state dir", "/home/alice/.local/state/banger").ok());
}

TEST_CASE("the layout comes from the owner's passwd entry") {
  auto root = ResolveLayout("root", "/usr/local", "");
  REQUIRE(root.ok());
  CHECK(root->owner_uid == 0);
  CHECK(root->bin_dir == "/usr/local/bin");
  CHECK(root->state_dir == "/root/.local/state/banger");
  auto by_uid = ResolveLayout("0", "/opt/banger", "/srv/fleet");
  REQUIRE(by_uid.ok());
  CHECK(by_uid->owner == "root");
  CHECK(by_uid->bin_dir == "/opt/banger/bin");
  CHECK(by_uid->state_dir == "/srv/fleet");
  CHECK(ResolveLayout("no-such-user-here", "/usr/local", "").error().code() == Code::kNotFound);
  CHECK(ResolveLayout("", "/usr/local", "").error().code() == Code::kInvalidArgument);
}

TEST_CASE("install copies the binaries, writes units and record, and starts both units") {
  Fixture f;
  auto record = Install(f.runner, f.paths, f.layout, f.sources);
  REQUIRE(record.ok());
  CHECK(f.runner.ran == kInstallCommands);
  CHECK(ReadFile(JoinPath(f.layout.bin_dir, "banger")).value() == "banger binary");
  CHECK(ReadFile(JoinPath(f.layout.bin_dir, "banger-helper")).value() == "helper binary");
  struct stat st {};
  REQUIRE(stat(JoinPath(f.layout.bin_dir, "banger").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0755);
  CHECK(ReadFile(f.Unit(kHelperUnit)).value() == RenderHelperUnit(f.layout));
  CHECK(ReadFile(f.Unit(kDaemonUnit)).value() == RenderDaemonUnit(f.layout));

  auto stored = ReadInstallRecord(f.paths.record_path);
  REQUIRE(stored.ok());
  REQUIRE(stored->has_value());
  CHECK((*stored)->layout.state_dir == f.layout.state_dir);
  CHECK((*stored)->unit_files == std::vector<std::string>{f.Unit(kHelperUnit), f.Unit(kDaemonUnit)});
  CHECK((*stored)->binaries == std::vector<std::string>{JoinPath(f.layout.bin_dir, "banger"),
                                                        JoinPath(f.layout.bin_dir, "banger-helper")});

  SECTION("installing again from the installed binaries copies nothing and forgets nothing") {
    InstallSources installed{JoinPath(f.layout.bin_dir, "banger"),
                             JoinPath(f.layout.bin_dir, "banger-helper")};
    auto again = Install(f.runner, f.paths, f.layout, installed);
    REQUIRE(again.ok());
    CHECK(again->binaries == (*stored)->binaries);
  }
  SECTION("another owner is refused until uninstall") {
    InstallLayout bob = f.layout;
    bob.owner = "bob";
    bob.owner_uid = 1600;
    f.runner.ran.clear();
    auto refused = Install(f.runner, f.paths, bob, f.sources);
    CHECK(refused.error().code() == Code::kAlreadyExists);
    CHECK(refused.error().message().find("'alice'") != std::string::npos);
    CHECK(f.runner.ran.empty());
  }
}

TEST_CASE("uninstall removes what install made and keeps state unless purged") {
  Fixture f;
  auto record = Install(f.runner, f.paths, f.layout, f.sources);
  REQUIRE(record.ok());
  REQUIRE(MakeDirs(JoinPath(f.layout.state_dir, "vms/web")).ok());
  REQUIRE(MakeDirs(JoinPath(f.layout.state_dir, "daemon")).ok());
  REQUIRE(MakeDirs(f.paths.runtime_dir).ok());
  REQUIRE(MakeDirs(f.paths.helper_state_dir).ok());
  f.runner.ran.clear();

  SECTION("without --purge") {
    auto removed = Uninstall(f.runner, f.paths, *record, {});
    REQUIRE(removed.ok());
    CHECK(f.runner.ran == std::vector<std::string>{
                             "systemctl disable --now banger-daemon.service",
                             "systemctl disable --now banger-helper.service",
                             "systemctl daemon-reload",
                             "systemctl reset-failed banger-helper.service banger-daemon.service"});
    for (const std::string& gone : {f.Unit(kHelperUnit), f.Unit(kDaemonUnit), f.paths.runtime_dir,
                                    JoinPath(f.layout.bin_dir, "banger"),
                                    JoinPath(f.layout.bin_dir, "banger-helper"),
                                    f.paths.record_path, Dirname(f.paths.record_path)}) {
      CHECK_FALSE(PathExists(gone));
    }
    CHECK(PathExists(f.layout.state_dir));
    CHECK(PathExists(f.paths.helper_state_dir));
    CHECK(PathExists(f.sources.banger));  // the copy's source is not install's
  }
  SECTION("--purge refuses while a VM runs, and --force kills it first") {
    pid_t vmm = fork();
    REQUIRE(vmm >= 0);
    if (vmm == 0) {
      pause();
      _exit(0);
    }
    REQUIRE(AtomicWriteFile(JoinPath(f.layout.state_dir, "vms/web/handles.json"),
                            R"({"vmm": "qemu", "pid": )" + std::to_string(vmm) +
                                R"(, "pid_start_ticks": 0, "accel": "", "api_socket": "",
                                "channel_socket": "", "console_log": "", "tap": "", "mac": "",
                                "rootfs": "", "cow_method": "", "work_disk": "", "jail": ""})")
                .ok());
    auto refused = Uninstall(f.runner, f.paths, *record, {.purge = true});
    CHECK(refused.error().code() == Code::kBusy);
    CHECK(refused.error().message().find("running VMs (web in") != std::string::npos);
    CHECK(f.runner.ran.empty());
    CHECK(PathExists(f.Unit(kHelperUnit)));

    auto removed = Uninstall(f.runner, f.paths, *record, {.purge = true, .force = true});
    REQUIRE(removed.ok());
    int wstatus = 0;
    REQUIRE(waitpid(vmm, &wstatus, 0) == vmm);
    CHECK(WIFSIGNALED(wstatus));
    CHECK(WTERMSIG(wstatus) == SIGKILL);
    CHECK_FALSE(PathExists(f.layout.state_dir));
    CHECK_FALSE(PathExists(f.paths.helper_state_dir));
    CHECK_FALSE(PathExists(f.paths.record_path));
  }
}

TEST_CASE("a purge refuses to delete a state dir banger did not make") {
  Fixture f;
  auto record = Install(f.runner, f.paths, f.layout, f.sources);
  REQUIRE(record.ok());
  REQUIRE(MakeDirs(f.layout.state_dir).ok());
  REQUIRE(AtomicWriteFile(JoinPath(f.layout.state_dir, "thesis.tex"), "mine").ok());
  f.runner.ran.clear();
  auto refused = Uninstall(f.runner, f.paths, *record, {.purge = true});
  CHECK(refused.error().code() == Code::kFailedPrecondition);
  CHECK(refused.error().message().find("holds no banger state") != std::string::npos);
  CHECK(f.runner.ran.empty());
  CHECK(PathExists(JoinPath(f.layout.state_dir, "thesis.tex")));
  CHECK(PathExists(f.Unit(kHelperUnit)));
}

TEST_CASE("a purge deletes banger's nftables table and only links that exist") {
  Fixture f;
  auto record = Install(f.runner, f.paths, f.layout, f.sources);
  REQUIRE(record.ok());
  // Links the host does not have are skipped (the e2e test deletes real
  // ones); the table is deleted when nft lists it.
  helper::HelperState state;
  state.owner_uid = 1500;
  state.bridges.push_back({"bgnotthere0", "10.1.0.1/24"});
  state.taps.push_back({"bgnotthere0t0", "bgnotthere0", ""});
  REQUIRE(MakeDirs(f.paths.helper_state_dir).ok());
  REQUIRE(AtomicWriteFile(JoinPath(f.paths.helper_state_dir, "1500.json"),
                          helper::EncodeState(state)).ok());
  f.runner.outputs["nft list tables"] = "table inet filter\ntable ip banger\n";
  f.runner.ran.clear();
  auto removed = Uninstall(f.runner, f.paths, *record, {.purge = true});
  REQUIRE(removed.ok());
  CHECK(f.runner.ran == std::vector<std::string>{
                           "systemctl disable --now banger-daemon.service",
                           "systemctl disable --now banger-helper.service",
                           "systemctl daemon-reload",
                           "systemctl reset-failed banger-helper.service banger-daemon.service",
                           "nft list tables",
                           "nft delete table ip banger"});
  CHECK_FALSE(PathExists(f.paths.helper_state_dir));
}

TEST_CASE("a malformed install record is refused, naming the file and key") {
  Fixture f;
  REQUIRE(MakeDirs(Dirname(f.paths.record_path)).ok());
  REQUIRE(AtomicWriteFile(f.paths.record_path, R"({"owner": "alice", "extra": 1})").ok());
  auto unknown = ReadInstallRecord(f.paths.record_path);
  CHECK(unknown.error().code() == Code::kCorruption);
  CHECK(unknown.error().message().find("'extra'") != std::string::npos);
  REQUIRE(AtomicWriteFile(f.paths.record_path, R"({"owner": 7})").ok());
  auto mistyped = ReadInstallRecord(f.paths.record_path);
  CHECK(mistyped.error().code() == Code::kCorruption);
  CHECK(mistyped.error().message().find("'owner'") != std::string::npos);
  CHECK_FALSE(ReadInstallRecord(JoinPath(f.dir.path(), "missing.json")).value().has_value());
}
