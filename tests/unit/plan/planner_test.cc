#include <catch2/catch.hpp>

#include <functional>

#include "reconciler/plan/planner.h"
#include "reconciler/plan/render.h"
#include "tests/support/spec_builders.h"

using namespace banger;
using namespace banger::plan;
using banger::testing::Converged;
using banger::testing::Fleet;
using banger::testing::Vm;

namespace {

std::vector<std::string> Reasons(const Step& s) {
  std::vector<std::string> out;
  for (const auto& c : s.changes) out.push_back(c.reason);
  return out;
}

specs::DesiredState TwoVms() {
  auto d = Fleet({Vm("web"), Vm("worker")});
  d.file_syncs.push_back(banger::testing::FileSync("creds", "~/.creds", "/root/.creds"));
  d.vms[0].file_sync = {"creds"};
  return d;
}

}  // namespace

TEST_CASE("an empty store plans creates in dependency order") {
  auto d = TwoVms();
  Observed o;
  Plan p = MakePlan(d, o);
  std::vector<std::string> order;
  for (const auto& s : p.steps) order.push_back(std::string(ActionSymbol(s.action)) + s.address);
  CHECK(order == std::vector<std::string>{"+kernel.default", "+image.base", "+file_sync.creds",
                                          "+vm.web", "+vm.worker"});
  const Step* web = p.Find("vm.web");
  REQUIRE(web);
  CHECK(web->depends_on ==
        std::vector<std::string>{"kernel.default", "image.base", "file_sync.creds"});
  CHECK(p.Find("vm.worker")->depends_on ==
        std::vector<std::string>{"kernel.default", "image.base"});
  CHECK(p.counts().create == 5);
  CHECK(RenderCounts(p.counts()) ==
        "5 to create, 0 to update, 0 to restart, 0 to replace, 0 to delete");
}

TEST_CASE("a converged store plans nothing") {
  auto d = TwoVms();
  Plan p = MakePlan(d, Converged(d));
  CHECK(p.steps.empty());
  CHECK(p.drift.empty());
  CHECK(p.serial == 7);
  CHECK(RenderText(p) == "No changes. The host matches the spec.\n");
}

struct FieldCase {
  const char* name;
  std::function<void(specs::DesiredState&)> change;
  const char* address;
  Action action;
  const char* reason;
};

TEST_CASE("every field has a defined consequence") {
  const std::vector<FieldCase> cases = {
      {"vm image", [](auto& d) { d.images.push_back(banger::testing::DirImage("alt"));
                                 d.vms[0].image = "alt"; },
       "vm.web", Action::kReplace, "image base -> alt: replace"},
      {"vm kernel", [](auto& d) { d.kernels.push_back(banger::testing::Kernel("k2"));
                                  d.vms[0].kernel = "k2"; },
       "vm.web", Action::kReplace, "kernel default -> k2: replace"},
      {"vm vcpus", [](auto& d) { d.vms[0].vcpus = 4; },
       "vm.web", Action::kRestart, "vcpus 2 -> 4: restart"},
      {"vm memory", [](auto& d) { d.vms[0].memory = 2 * specs::kGiB; },
       "vm.web", Action::kRestart, "memory 1G -> 2G: restart"},
      {"vm disk grow", [](auto& d) { d.vms[0].disk = 8 * specs::kGiB; },
       "vm.web", Action::kRestart, "disk 4G -> 8G: restart"},
      {"vm nat", [](auto& d) { d.vms[0].nat = true; },
       "vm.web", Action::kUpdate, "nat false -> true: update"},
      {"vm file_sync list", [](auto& d) { d.vms[1].file_sync = {"creds"}; },
       "vm.worker", Action::kUpdate, "file_sync [] -> [creds]: update"},
      {"vm labels", [](auto& d) { d.vms[0].labels["team"] = "infra"; },
       "vm.web", Action::kUpdate, "labels {} -> {team=infra}: update"},
      {"vm keep_work_disk", [](auto& d) { d.vms[0].keep_work_disk = false; },
       "vm.web", Action::kUpdate, "keep_work_disk true -> false: update"},
      {"vm ports", [](auto& d) { d.vms[0].ports = {{"127.0.0.1", 2222, 22, "tcp"}}; },
       "vm.web", Action::kUpdate, "ports [] -> [127.0.0.1:2222:22/tcp]: update"},
      {"vm workspace", [](auto& d) { d.vms[0].workspace = specs::WorkspaceSpec{"~/src/app", ""}; },
       "vm.web", Action::kUpdate,
       "workspace (none) -> {repo=~/src/app, ref=(working tree)}: update "
       "(the guest's /root/repo is replaced by a fresh import)"},
      {"kernel deb", [](auto& d) { d.kernels[0].deb = "linux-image-amd64"; },
       "kernel.default", Action::kReplace,
       "deb linux-image-cloud-amd64 -> linux-image-amd64: replace"},
      {"kernel source", [](auto& d) { d.kernels[0].source = specs::KernelSource::kPath;
                                      d.kernels[0].deb.clear();
                                      d.kernels[0].path_kernel = "/boot/vmlinuz"; },
       "kernel.default", Action::kReplace, "source deb -> path: replace"},
      {"image dir", [](auto& d) { d.images[0].dir = "/srv/other"; },
       "image.base", Action::kReplace, "dir /srv/rootfs -> /srv/other: replace"},
      {"image size", [](auto& d) { d.images[0].size = 2 * specs::kGiB; },
       "image.base", Action::kReplace, "size (auto) -> 2G: replace"},
      {"image insecure", [](auto& d) { d.images[0].insecure = true; },
       "image.base", Action::kUpdate, "insecure false -> true: update"},
      {"file_sync mode", [](auto& d) { d.file_syncs[0].mode = 0640; },
       "file_sync.creds", Action::kUpdate, "mode (default) -> 0640: update"},
      {"file_sync guest", [](auto& d) { d.file_syncs[0].guest = "/root/x"; },
       "file_sync.creds", Action::kUpdate, "guest /root/.creds -> /root/x: update"},
      {"settings bridge", [](auto& d) { d.settings.bridge = "bg1"; },
       "settings", Action::kCreate, "bridge bg0 -> bg1: update"},
      {"settings image_max_size", [](auto& d) { d.settings.image_max_size = 128 * specs::kGiB; },
       "settings", Action::kCreate, "image_max_size 64G -> 128G: update"},
      {"settings image_max_files", [](auto& d) { d.settings.image_max_files = 5'000'000; },
       "settings", Action::kCreate, "image_max_files 2000000 -> 5000000: update"},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      auto d = TwoVms();
      Observed o = Converged(d);
      c.change(d);
      Plan p = MakePlan(d, o);
      const Step* s = p.Find(c.address);
      REQUIRE(s);
      CHECK(s->action == c.action);
      CHECK(Reasons(*s).at(0) == c.reason);
      CHECK(p.errors.empty());
    }
  }
}

TEST_CASE("a workspace change updates the VM in place, saying what happens to /root/repo") {
  struct Case {
    const char* name;
    std::optional<specs::WorkspaceSpec> after;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"ref", specs::WorkspaceSpec{"/src/app", "dev"},
       "workspace {repo=/src/app, ref=main} -> {repo=/src/app, ref=dev}: update "
       "(the guest's /root/repo is replaced by a fresh import)"},
      {"repo", specs::WorkspaceSpec{"/src/other", "main"},
       "workspace {repo=/src/app, ref=main} -> {repo=/src/other, ref=main}: update "
       "(the guest's /root/repo is replaced by a fresh import)"},
      {"removed", std::nullopt,
       "workspace {repo=/src/app, ref=main} -> (none): update (the guest's /root/repo stays as it is)"},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      auto d = TwoVms();
      d.vms[0].workspace = specs::WorkspaceSpec{"/src/app", "main"};
      Observed o = Converged(d);
      d.vms[0].workspace = c.after;
      Plan p = MakePlan(d, o);
      REQUIRE(p.steps.size() == 1);
      const Step& s = p.steps[0];
      CHECK(s.address == "vm.web");
      CHECK(s.action == Action::kUpdate);
      CHECK_FALSE(s.destructive());
      REQUIRE(s.changes.size() == 1);
      CHECK(s.changes[0].field == "workspace");
      CHECK(s.changes[0].reason == c.reason);
    }
  }
  // The same workspace plans nothing.
  auto d = TwoVms();
  d.vms[0].workspace = specs::WorkspaceSpec{"/src/app", "main"};
  CHECK(MakePlan(d, Converged(d)).steps.empty());
}

TEST_CASE("changes propagate to the VMs that use them") {
  auto d = TwoVms();
  Observed o = Converged(d);
  SECTION("a rebuilt image replaces its VMs, after the image") {
    d.images[0].dir = "/srv/other";
    Plan p = MakePlan(d, o);
    const Step* web = p.Find("vm.web");
    REQUIRE(web);
    CHECK(web->action == Action::kReplace);
    CHECK(web->keep_work_disk);
    CHECK(Reasons(*web) == std::vector<std::string>{"image 'base' is rebuilt: replace"});
    CHECK(web->depends_on == std::vector<std::string>{"image.base"});
  }
  SECTION("a rebuilt kernel restarts its VMs") {
    d.kernels[0].deb = "linux-image-amd64";
    Plan p = MakePlan(d, o);
    CHECK(p.Find("vm.worker")->action == Action::kRestart);
    CHECK(Reasons(*p.Find("vm.worker")) ==
          std::vector<std::string>{"kernel 'default' is rebuilt: restart"});
  }
  SECTION("a changed file_sync entry updates only the VMs using it") {
    d.file_syncs[0].host = "~/.other";
    Plan p = MakePlan(d, o);
    CHECK(p.Find("vm.web")->action == Action::kUpdate);
    CHECK(Reasons(*p.Find("vm.web")) ==
          std::vector<std::string>{"file_sync 'creds' changed: update"});
    CHECK(p.Find("vm.worker") == nullptr);
  }
  SECTION("changed host content updates the VM without touching the entry") {
    o.file_sync_digests["creds"] = "new-content";
    Plan p = MakePlan(d, o);
    REQUIRE(p.steps.size() == 1);
    CHECK(Reasons(p.steps[0]) ==
          std::vector<std::string>{"file_sync 'creds' content changed: update"});
  }
  SECTION("subnet change restarts every VM; vmm change replaces") {
    d.settings.subnet = "10.9.0.0/24";
    d.settings.vmm = "qemu";
    Plan p = MakePlan(d, o);
    CHECK(p.Find("settings")->action == Action::kCreate);
    CHECK(p.Find("vm.web")->action == Action::kReplace);
    CHECK(Reasons(*p.Find("vm.worker")) ==
          std::vector<std::string>{"settings.subnet 172.30.0.0/24 -> 10.9.0.0/24: restart",
                                   "settings.vmm auto -> qemu: replace"});
  }
  SECTION("jailing Firecracker restarts every VM and keeps its disks") {
    specs::Settings firecracker;
    firecracker.vmm = "firecracker";
    o.store.settings = firecracker;
    d.settings.vmm = "firecracker";
    d.settings.jailer = true;
    Plan p = MakePlan(d, o);
    CHECK(p.Find("vm.web")->action == Action::kRestart);
    CHECK(Reasons(*p.Find("vm.worker")) ==
          std::vector<std::string>{"settings.jailer false -> true: restart"});
  }
}

TEST_CASE("changing the image limits touches no image or VM") {
  // They bound future builds only; built images are not rebuilt.
  auto d = TwoVms();
  Observed o = Converged(d);
  d.settings.image_max_size = 1 * specs::kGiB;
  d.settings.image_max_files = 10;
  Plan p = MakePlan(d, o);
  REQUIRE(p.steps.size() == 1);
  CHECK(p.steps[0].address == "settings");
  CHECK(Reasons(p.steps[0]) == std::vector<std::string>{"image_max_size 64G -> 1G: update",
                                                        "image_max_files 2000000 -> 10: update"});
}

TEST_CASE("shrinking a work disk is an error, not a step") {
  auto d = TwoVms();
  Observed o = Converged(d);
  d.vms[0].disk = 1 * specs::kGiB;
  Plan p = MakePlan(d, o);
  CHECK(p.steps.empty());
  REQUIRE(p.errors.size() == 1);
  CHECK(p.errors[0].find("vm.web: disk 4G -> 1G: shrinking a work disk is not supported") == 0);
}

TEST_CASE("two VMs publishing one host port is an error naming both") {
  auto d = TwoVms();
  Observed o = Converged(d);
  d.vms[0].ports = {{"0.0.0.0", 8080, 80, "tcp"}};
  d.vms[1].ports = {{"127.0.0.1", 8080, 81, "tcp"}, {"0.0.0.0", 8080, 80, "udp"}};
  Plan p = MakePlan(d, o);
  REQUIRE(p.errors.size() == 1);
  CHECK(p.errors[0] == "vm.web: ports: '8080:80/tcp' and vm.worker's '127.0.0.1:8080:81/tcp' "
                       "publish the same host port tcp 8080");
  d.vms[1].ports = {{"10.0.0.1", 8080, 81, "tcp"}};
  d.vms[0].ports = {{"10.0.0.2", 8080, 80, "tcp"}};
  CHECK(MakePlan(d, o).errors.empty());
}

TEST_CASE("a host port bound by another process is an error naming the VM and process") {
  auto d = TwoVms();
  Observed o = Converged(d);
  o.bound_sockets = {{"tcp", "0.0.0.0", 8080, 4321, "nginx"},
                     {"udp", "127.0.0.1", 5353, 0, ""},
                     {"tcp", "10.0.0.9", 9000, 7, "x"}};
  d.vms[0].ports = {{"127.0.0.1", 8080, 80, "tcp"}, {"0.0.0.0", 5353, 53, "udp"},
                    {"10.0.0.1", 9000, 90, "tcp"}};
  Plan p = MakePlan(d, o);
  CHECK(p.errors == std::vector<std::string>{
      "vm.web: ports: '127.0.0.1:8080:80/tcp': host port tcp 0.0.0.0:8080 is already bound "
      "by another process (pid 4321, nginx)",
      "vm.web: ports: '5353:53/udp': host port udp 127.0.0.1:5353 is already bound by another "
      "process (process not visible to this user)"});

  // A port the VM already publishes is not checked again: the DNAT rule,
  // not a socket, is what holds it.
  Observed published = Converged(d);
  published.bound_sockets = o.bound_sockets;
  CHECK(MakePlan(d, published).errors.empty());
}

TEST_CASE("a VM taking a host port from a deleted VM waits for the deletion") {
  auto d = TwoVms();
  d.vms[1].ports = {{"0.0.0.0", 8080, 80, "tcp"}};
  Observed o = Converged(d);
  d.vms.pop_back();                                   // worker goes ...
  d.vms[0].ports = {{"127.0.0.1", 8080, 80, "tcp"}};  // ... and web takes its port
  Plan p = MakePlan(d, o);
  CHECK(p.errors.empty());
  const Step* web = p.Find("vm.web");
  REQUIRE(web);
  CHECK(web->action == Action::kUpdate);
  CHECK(std::find(web->depends_on.begin(), web->depends_on.end(), "vm.worker") !=
        web->depends_on.end());
  REQUIRE(p.Find("vm.worker"));
  CHECK(p.Find("vm.worker")->action == Action::kDelete);
}

TEST_CASE("drift is observed and planned as a repair") {
  auto d = TwoVms();
  Observed o = Converged(d);
  SECTION("dead process restarts") {
    o.vms["web"].process_running = false;
    Plan p = MakePlan(d, o);
    REQUIRE(p.steps.size() == 1);
    CHECK(p.steps[0].action == Action::kRestart);
    CHECK(p.steps[0].drift);
    CHECK(Reasons(p.steps[0]) == std::vector<std::string>{"process not running: restart"});
    REQUIRE(p.drift.size() == 1);
    CHECK(p.drift[0].address == "vm.web");
    CHECK(p.drift[0].what == "process not running");
  }
  SECTION("missing handles count as a dead process") {
    o.vms["web"] = model::VmLiveness{};
    CHECK(MakePlan(d, o).Find("vm.web")->action == Action::kRestart);
  }
  SECTION("missing tap restarts") {
    o.vms["worker"].tap_present = false;
    CHECK(Reasons(*MakePlan(d, o).Find("vm.worker")) ==
          std::vector<std::string>{"tap 'bg-worker' missing: restart"});
  }
  SECTION("missing rootfs replaces and keeps the work disk") {
    o.vms["web"].rootfs_present = false;
    Plan p = MakePlan(d, o);
    const Step* s = p.Find("vm.web");
    CHECK(s->action == Action::kReplace);
    CHECK(s->keep_work_disk);
  }
  SECTION("missing work disk replaces without pretending to keep it") {
    o.vms["web"].work_disk_present = false;
    Plan p = MakePlan(d, o);
    const Step* s = p.Find("vm.web");
    CHECK(s->action == Action::kReplace);
    CHECK_FALSE(s->keep_work_disk);
  }
  SECTION("missing image files rebuild the image and replace its VMs") {
    o.image_present["base"] = false;
    Plan p = MakePlan(d, o);
    CHECK(p.Find("image.base")->action == Action::kReplace);
    CHECK(p.Find("vm.web")->action == Action::kReplace);
  }
  SECTION("a stopped VM is not drift; restart-class changes wait for its start") {
    o.store.vms["web"].power = model::PowerIntent::kStopped;
    o.vms["web"].process_running = false;
    d.vms[0].memory = 2 * specs::kGiB;
    Plan p = MakePlan(d, o);
    const Step* s = p.Find("vm.web");
    REQUIRE(s);
    CHECK(s->action == Action::kUpdate);
    CHECK(Reasons(*s) ==
          std::vector<std::string>{"memory 1G -> 2G: update (applies at next start)"});
    CHECK(p.drift.empty());
    CHECK(p.notes.size() == 1);
  }
  SECTION("a moved OCI tag is drift unless refreshing") {
    d.images[0].source = specs::ImageSource::kOci;
    d.images[0].dir.clear();
    d.images[0].oci = "debian:bookworm";
    o.store.images["base"].spec = d.images[0];
    o.image_remote_digests["base"] = "sha256:new";
    Plan p = MakePlan(d, o);
    CHECK(p.steps.empty());
    REQUIRE(p.drift.size() == 1);
    CHECK(p.drift[0].address == "image.base");
    Plan r = MakePlan(d, o, PlanOptions{.refresh_images = true});
    CHECK(r.Find("image.base")->action == Action::kReplace);
    CHECK(r.Find("vm.web")->action == Action::kReplace);
  }
  SECTION("an unreachable registry is an error only when refreshing") {
    d.images[0].source = specs::ImageSource::kOci;
    d.images[0].dir.clear();
    d.images[0].oci = "debian:bookworm";
    o.store.images["base"].spec = d.images[0];
    o.image_remote_errors["base"] = "connection refused";
    Plan p = MakePlan(d, o);
    CHECK(p.steps.empty());
    CHECK(p.errors.empty());
    Plan r = MakePlan(d, o, PlanOptions{.refresh_images = true});
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0] ==
          "image 'base': cannot check tag debian:bookworm for --refresh-images: connection refused");
  }
}

TEST_CASE("undeclared resources are pruned in reverse dependency order") {
  auto d = TwoVms();
  Observed o = Converged(d);
  specs::DesiredState empty;
  Plan p = MakePlan(empty, o);
  std::vector<std::string> order;
  for (const auto& s : p.steps) order.push_back(std::string(ActionSymbol(s.action)) + s.address);
  CHECK(order == std::vector<std::string>{"-vm.web", "-vm.worker", "-file_sync.creds",
                                          "-image.base", "-kernel.default"});
  CHECK(p.Find("image.base")->depends_on == std::vector<std::string>{"vm.web", "vm.worker"});
  CHECK(p.Find("vm.web")->keep_work_disk == false);
  CHECK(p.counts().remove == 5);
}

TEST_CASE("resources created by imperative verbs are never pruned") {
  auto d = TwoVms();
  Observed o = Converged(d);
  o.store.images["base"].origin = model::Origin::kCli;
  o.store.vms["worker"].origin = model::Origin::kCli;
  Plan p = MakePlan(specs::DesiredState{}, o);
  CHECK(p.Find("image.base") == nullptr);
  CHECK(p.Find("vm.worker") == nullptr);
  CHECK(p.Find("vm.web") != nullptr);
}

TEST_CASE("an image still used by a declared VM is kept") {
  auto d = TwoVms();
  Observed o = Converged(d);
  d.images.clear();  // VMs still reference "base", which the store holds
  Plan p = MakePlan(d, o);
  CHECK(p.Find("image.base") == nullptr);
  REQUIRE(p.warnings.size() == 1);
  CHECK(p.warnings[0] == "image.base is no longer declared but VMs still use it; kept");
}

TEST_CASE("incomplete observation plans no deletions and says so") {
  auto d = TwoVms();
  Observed o = Converged(d);
  SECTION("unreadable handles") {
    o.handle_errors.push_back("vm 'web': handles corrupt");
  }
  SECTION("unreadable store") {
    o.store_ok = false;
    o.store_error = "state.db: file is not a database";
  }
  Plan p = MakePlan(specs::DesiredState{}, o);
  CHECK(p.steps.empty());
  CHECK_FALSE(p.observation_complete);
  CHECK(p.warnings.back() == "observation incomplete: no deletions planned");
  const std::string text = RenderText(p);
  CHECK(text.find("No changes. The host matches the spec.") == std::string::npos);
  CHECK(text.find("the host could not be fully observed") != std::string::npos);
}

TEST_CASE("deletions withheld by unreadable handles are named, with the reason") {
  auto d = TwoVms();
  Observed o = Converged(d);
  o.handle_errors.push_back("vm 'web': handles unreadable: bad JSON");
  specs::DesiredState only_worker = d;
  std::erase_if(only_worker.vms, [](const specs::VmSpec& v) { return v.name == "web"; });
  Plan p = MakePlan(only_worker, o);
  CHECK(p.Find("vm.web") == nullptr);
  REQUIRE(p.withheld.size() == 1);
  CHECK(p.withheld[0].address == "vm.web");
  CHECK(p.withheld[0].reason == "vm 'web': handles unreadable: bad JSON");
  CHECK(RenderText(p).find("1 deletion withheld: vm.web (vm 'web': handles unreadable: bad JSON)") !=
        std::string::npos);
  auto round = PlanFromJson(PlanToJson(p));
  REQUIRE(round.ok());
  REQUIRE(round->withheld.size() == 1);
  CHECK(round->withheld[0].address == "vm.web");
}

TEST_CASE("text and JSON render the same plan") {
  auto d = TwoVms();
  Observed o = Converged(d);
  d.vms[0].memory = 2 * specs::kGiB;
  d.vms.pop_back();
  o.vms["web"].process_running = false;
  Plan p = MakePlan(d, o);
  CHECK(RenderText(p) ==
        "Drift (changed outside banger):\n"
        "  vm.web: process not running\n"
        "\n"
        "!   vm.web [repair]\n"
        "      memory 1G -> 2G: restart\n"
        "      process not running: restart\n"
        "-   vm.worker (work disk deleted)\n"
        "      no longer declared: delete\n"
        "\n"
        "Plan: 0 to create, 0 to update, 1 to restart, 0 to replace, 1 to delete.\n");
  auto j = PlanToJson(p);
  CHECK(j["summary"]["restart"] == 1);
  CHECK(j["steps"][0]["changes"][0]["reason"] == "memory 1G -> 2G: restart");
  auto back = PlanFromJson(j);
  REQUIRE(back.ok());
  CHECK(RenderText(*back) == RenderText(p));
}

TEST_CASE("--target keeps the targets and what they depend on") {
  auto d = TwoVms();
  Plan p = TargetPlan(MakePlan(d, Observed{}), {"image.base", "vm.worker"});
  std::vector<std::string> order;
  for (const auto& s : p.steps) order.push_back(s.address);
  CHECK(order == std::vector<std::string>{"kernel.default", "image.base", "vm.worker"});
  CHECK(p.notes.back() == "2 other changes left for an apply without --target");
  Plan none = TargetPlan(MakePlan(d, Observed{}), {"vm.nope"});
  CHECK(none.steps.empty());
  CHECK(none.notes.front() == "target vm.nope has no changes");
}

TEST_CASE("memory above the host's total is a plan-time warning, not an error") {
  auto d = TwoVms();
  Observed o = Converged(d);
  o.host_memory_bytes = 8 * specs::kGiB;
  d.vms[0].memory = 16 * specs::kGiB;
  Plan p = MakePlan(d, o);
  CHECK(p.errors.empty());
  REQUIRE(p.warnings.size() == 1);
  CHECK(p.warnings[0] ==
        "vm.web: memory 16G is more than this host's 8.0G in total; the guest may fail to "
        "start or swap heavily");
  o.host_memory_bytes = 0;  // unknown: nothing to say
  CHECK(MakePlan(d, o).warnings.empty());
}
