#include "reconciler/plan/planner.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "reconciler/base/error.h"
#include "reconciler/plan/field_diff.h"
#include "reconciler/plan/snapshot_plan.h"
#include "reconciler/plan/step_order.h"
#include "specs/loader.h"

namespace banger::plan {
namespace {

using model::PowerIntent;

// "23.4G": host totals are rarely a round number of any unit.
std::string GiB(uint64_t bytes) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.1fG", static_cast<double>(bytes) / (1ull << 30));
  return buf;
}

class PlanBuilder {
 public:
  PlanBuilder(const specs::DesiredState& d, const Observed& o, const PlanOptions& opt)
      : desired_(d), observed_(o), options_(opt), store_(o.store) {}

  Plan Build() {
    plan_.serial = store_.serial;
    plan_.observation_complete = observed_.complete();
    if (!observed_.store_ok)
      plan_.warnings.push_back("store could not be read: " + observed_.store_error);
    for (const auto& e : observed_.handle_errors)
      plan_.warnings.push_back("handles could not be read: " + e);
    if (!plan_.observation_complete) {
      plan_.warnings.push_back("observation incomplete: no deletions planned");
      if (!observed_.store_ok) incomplete_reason_ = "store unreadable: " + observed_.store_error;
      for (const auto& e : observed_.handle_errors)
        incomplete_reason_ += (incomplete_reason_.empty() ? "" : "; ") + e;
    }

    PlanSettings();
    PlanKernels();
    PlanImages();
    PlanFileSyncs();
    PlanVms();
    PlanSnapshots();
    CheckPorts();
    PlanDeletions();
    OrderPortHandovers();
    OrderSteps(&plan_.steps);
    return std::move(plan_);
  }

 private:
  void Add(Step step, std::vector<Change> changes) {
    step.changes = std::move(changes);
    if (step.action == Action::kNoOp) step.action = Strongest(step.changes);
    if (step.action == Action::kNoOp) return;
    step.address = Address(step.kind, step.name);
    for (const auto& c : step.changes) {
      if (step.drift && c.consequence != Action::kNoOp && c.field == "drift")
        plan_.drift.push_back({step.address, c.before});
    }
    actions_[step.address] = step.action;
    plan_.steps.push_back(std::move(step));
  }

  Action ActionOf(const std::string& address) const {
    auto it = actions_.find(address);
    return it == actions_.end() ? Action::kNoOp : it->second;
  }

  static Step NewStep(ResourceKind kind, const std::string& name, Action action = Action::kNoOp) {
    Step s;
    s.kind = kind;
    s.name = name;
    s.action = action;
    return s;
  }

  // A drift change: `what` is shown in the drift section and the reason.
  void AddDrift(std::vector<Change>& changes, const std::string& what, Action a) {
    Change c = MakeEvent("drift", what, a);
    c.before = what;
    changes.push_back(std::move(c));
  }

  void PlanSettings() {
    const specs::Settings applied = store_.settings.value_or(specs::Settings{});
    settings_changes_ = DiffSettings(applied, desired_.settings);
    if (settings_changes_.empty()) return;
    Add(NewStep(ResourceKind::kSettings, "",
                store_.settings ? Action::kUpdate : Action::kCreate),
        settings_changes_);
  }

  void PlanKernels() {
    for (const auto& k : desired_.kernels) {
      auto rec = store_.kernels.find(k.name);
      if (rec == store_.kernels.end()) {
        Add(NewStep(ResourceKind::kKernel, k.name, Action::kCreate),
            {MakeEvent("", "declared, not built yet", Action::kCreate)});
        continue;
      }
      std::vector<Change> changes = DiffKernel(rec->second.spec, k);
      auto present = observed_.kernel_present.find(k.name);
      Step step = NewStep(ResourceKind::kKernel, k.name);
      if (changes.empty() && present != observed_.kernel_present.end() && !present->second) {
        AddDrift(changes, "kernel files missing", Action::kReplace);
        step.drift = true;
      }
      Add(std::move(step), std::move(changes));
    }
  }

  void PlanImages() {
    for (const auto& i : desired_.images) {
      auto rec = store_.images.find(i.name);
      if (rec == store_.images.end()) {
        Add(NewStep(ResourceKind::kImage, i.name, Action::kCreate),
            {MakeEvent("", "declared, not built yet", Action::kCreate)});
        continue;
      }
      std::vector<Change> changes = DiffImage(rec->second.spec, i);
      Step step = NewStep(ResourceKind::kImage, i.name);
      auto present = observed_.image_present.find(i.name);
      if (Strongest(changes) < Action::kReplace) {
        if (present != observed_.image_present.end() && !present->second) {
          AddDrift(changes, "image files missing", Action::kReplace);
          step.drift = true;
        } else if (auto remote = observed_.image_remote_digests.find(i.name);
                   remote != observed_.image_remote_digests.end() &&
                   !remote->second.empty() && remote->second != rec->second.digest) {
          if (options_.refresh_images) {
            changes.push_back(MakeChange("digest", rec->second.digest, remote->second,
                                         Action::kReplace));
          } else {
            plan_.drift.push_back({Address(ResourceKind::kImage, i.name),
                                   "tag " + i.oci + " now points at " + remote->second +
                                       " (pulled " + rec->second.digest +
                                       "); apply --refresh-images to re-pull"});
          }
        } else if (auto failed = observed_.image_remote_errors.find(i.name);
                   failed != observed_.image_remote_errors.end() && options_.refresh_images) {
          plan_.errors.push_back("image " + Quote(i.name) + ": cannot check tag " + i.oci +
                                 " for --refresh-images: " + failed->second);
        }
      }
      Add(std::move(step), std::move(changes));
    }
  }

  void PlanFileSyncs() {
    for (const auto& f : desired_.file_syncs) {
      auto rec = store_.file_syncs.find(f.name);
      if (rec == store_.file_syncs.end()) {
        Add(NewStep(ResourceKind::kFileSync, f.name, Action::kCreate),
            {MakeEvent("", "declared", Action::kCreate)});
        continue;
      }
      Add(NewStep(ResourceKind::kFileSync, f.name), DiffFileSync(rec->second.spec, f));
    }
  }

  // The kernel/image/file_sync steps a VM waits for.
  std::vector<std::string> VmDependencies(const specs::VmSpec& v) const {
    std::vector<std::string> deps;
    for (const auto& a : {Address(ResourceKind::kKernel, v.kernel),
                          Address(ResourceKind::kImage, v.image)}) {
      if (ActionOf(a) != Action::kNoOp) deps.push_back(a);
    }
    for (const auto& f : v.file_sync) {
      auto a = Address(ResourceKind::kFileSync, f);
      if (ActionOf(a) != Action::kNoOp) deps.push_back(a);
    }
    return deps;
  }

  void PlanVms() {
    for (const auto& v : desired_.vms) {
      // Not an error: memory is overcommitted and a guest rarely touches
      // all of it, but asking for more than the host has is usually a typo.
      if (observed_.host_memory_bytes != 0 && v.memory > observed_.host_memory_bytes)
        plan_.warnings.push_back("vm." + v.name + ": memory " + specs::FormatSize(v.memory) +
                                 " is more than this host's " +
                                 GiB(observed_.host_memory_bytes) +
                                 " in total; the guest may fail to start or swap heavily");
      Step step = NewStep(ResourceKind::kVm, v.name);
      // A clone's work disk is its snapshot's, matching the saved memory; it
      // cannot be carried into another VM.
      const bool clone = !v.from_snapshot.empty();
      step.keep_work_disk = v.keep_work_disk && !clone;
      step.depends_on = VmDependencies(v);
      auto rec_it = store_.vms.find(v.name);
      if (rec_it == store_.vms.end()) {
        step.action = Action::kCreate;
        Add(std::move(step), {MakeEvent("", "declared, not created yet", Action::kCreate)});
        continue;
      }
      const model::VmRecord& rec = rec_it->second;
      std::vector<Change> changes = DiffVm(rec.spec, v, &plan_.errors);
      AddDependencyChanges(v, rec, changes);
      AddSettingsEffects(changes);
      const bool stopped = rec.power == PowerIntent::kStopped;
      if (stopped) {
        // Nothing runs, so restart-class changes just wait for the next start.
        for (auto& c : changes) {
          if (c.consequence == Action::kRestart) {
            c.consequence = Action::kUpdate;
            c.reason = c.reason.substr(0, c.reason.rfind(": ")) +
                       ": update (applies at next start)";
          }
        }
        plan_.notes.push_back(Address(ResourceKind::kVm, v.name) +
                              " is stopped; `banger vm start " + v.name + "` boots it");
      }
      if (AddLivenessDrift(v, stopped, changes)) step.drift = true;
      if (Strongest(changes) == Action::kReplace) {
        bool disk_lost = false;
        if (auto l = observed_.vms.find(v.name); l != observed_.vms.end())
          disk_lost = l->second.has_handles && !l->second.work_disk_present;
        const bool was_clone = !rec.spec.from_snapshot.empty();
        step.keep_work_disk = v.keep_work_disk && !disk_lost && !clone && !was_clone;
      }
      Add(std::move(step), std::move(changes));
    }
  }

  ActionLookup Lookup() const {
    return [this](const std::string& address) { return ActionOf(address); };
  }

  void PlanSnapshots() {
    for (PlannedStep& p : PlanDeclaredSnapshots(desired_, observed_, Lookup(), &plan_))
      Add(std::move(p.step), std::move(p.changes));
    LinkClones();
  }

  // A clone waits for its snapshot's step, and one that exists is replaced
  // when its snapshot is taken again (its disks are copies of the old one).
  void LinkClones() {
    for (const auto& v : desired_.vms) {
      if (v.from_snapshot.empty()) continue;
      const std::string snapshot = Address(ResourceKind::kSnapshot, v.from_snapshot);
      const Action taken = ActionOf(snapshot);
      if (taken == Action::kNoOp) continue;
      const std::string address = Address(ResourceKind::kVm, v.name);
      auto rec = store_.vms.find(v.name);
      const bool same_snapshot =
          rec != store_.vms.end() && rec->second.spec.from_snapshot == v.from_snapshot;
      if (taken == Action::kReplace && same_snapshot && ActionOf(address) != Action::kReplace) {
        Change c = MakeEvent("from_snapshot", "snapshot '" + v.from_snapshot + "' is taken again",
                             Action::kReplace);
        if (Step* s = FindStep(address)) {
          s->changes.push_back(std::move(c));
          s->action = Action::kReplace;
          s->keep_work_disk = false;
          actions_[address] = Action::kReplace;
        } else {
          Step step = NewStep(ResourceKind::kVm, v.name);
          step.keep_work_disk = false;
          Add(std::move(step), {std::move(c)});
        }
      }
      if (Step* s = FindStep(address);
          s && (s->action == Action::kCreate || s->action == Action::kReplace))
        s->depends_on.push_back(snapshot);
    }
  }

  Step* FindStep(const std::string& address) {
    for (auto& s : plan_.steps)
      if (s.address == address) return &s;
    return nullptr;
  }

  // Host ports: two declared VMs may not publish the same one, and a port a
  // VM is about to publish may not be bound by another process (a DNAT rule
  // would silently take its connections).
  void CheckPorts() {
    const auto& vms = desired_.vms;
    for (size_t i = 0; i < vms.size(); ++i) {
      for (size_t j = i + 1; j < vms.size(); ++j) {
        for (const auto& a : vms[i].ports) {
          for (const auto& b : vms[j].ports) {
            if (!specs::PortSpecsCollide(a, b)) continue;
            plan_.errors.push_back(
                Address(ResourceKind::kVm, vms[i].name) + ": ports: " +
                Quote(specs::FormatPortSpec(a)) + " and " + Address(ResourceKind::kVm, vms[j].name) +
                "'s " + Quote(specs::FormatPortSpec(b)) + " publish the same host port " +
                a.proto + " " + std::to_string(a.host_port));
          }
        }
      }
    }
    for (const auto& v : vms) {
      const specs::VmSpec* applied = nullptr;
      if (auto rec = store_.vms.find(v.name); rec != store_.vms.end()) applied = &rec->second.spec;
      for (const auto& p : v.ports) {
        // Already published by banger: the socket came later and is the
        // other program's problem, not this plan's.
        if (applied && std::find(applied->ports.begin(), applied->ports.end(), p) !=
                           applied->ports.end())
          continue;
        for (const auto& sock : observed_.bound_sockets) {
          specs::PortSpec bound;
          bound.host_address = sock.address;
          bound.host_port = sock.port;
          bound.proto = sock.proto;
          if (!specs::PortSpecsCollide(p, bound)) continue;
          std::string owner = sock.pid > 0 ? "pid " + std::to_string(sock.pid) +
                                                 (sock.command.empty() ? "" : ", " + sock.command)
                                           : "process not visible to this user";
          plan_.errors.push_back(Address(ResourceKind::kVm, v.name) + ": ports: " +
                                 Quote(specs::FormatPortSpec(p)) + ": host port " + sock.proto +
                                 " " + sock.address + ":" + std::to_string(sock.port) +
                                 " is already bound by another process (" + owner + ")");
        }
      }
    }
  }

  // A VM taking over a host port from a VM this plan deletes waits for the
  // deletion: the helper refuses a port another VM still publishes.
  void OrderPortHandovers() {
    std::vector<std::pair<std::string, const specs::VmSpec*>> deleted;
    for (const auto& s : plan_.steps) {
      if (s.kind != ResourceKind::kVm || s.action != Action::kDelete) continue;
      if (auto rec = store_.vms.find(s.name); rec != store_.vms.end())
        deleted.emplace_back(s.address, &rec->second.spec);
    }
    if (deleted.empty()) return;
    for (auto& s : plan_.steps) {
      if (s.kind != ResourceKind::kVm || s.action == Action::kDelete) continue;
      const specs::VmSpec* wanted = desired_.FindVm(s.name);
      if (!wanted) continue;
      for (const auto& [address, old] : deleted) {
        bool collide = false;
        for (const auto& p : wanted->ports)
          for (const auto& q : old->ports) collide = collide || specs::PortSpecsCollide(p, q);
        if (collide) s.depends_on.push_back(address);
      }
    }
  }

  void AddDependencyChanges(const specs::VmSpec& v, const model::VmRecord& rec,
                            std::vector<Change>& changes) {
    // A clone runs its snapshot's copies of the disks and memory: a rebuilt
    // image or kernel reaches it through the snapshot (drift), not directly.
    if (v.from_snapshot.empty() || v.from_snapshot != rec.spec.from_snapshot)
      AddArtifactChanges(v, rec, changes);
    AddFileSyncChanges(v, rec, changes);
  }

  void AddArtifactChanges(const specs::VmSpec& v, const model::VmRecord& rec,
                          std::vector<Change>& changes) {
    const auto image_addr = Address(ResourceKind::kImage, v.image);
    const auto kernel_addr = Address(ResourceKind::kKernel, v.kernel);
    if (v.image == rec.spec.image) {
      Action a = ActionOf(image_addr);
      auto img = store_.images.find(v.image);
      if (a == Action::kReplace || a == Action::kCreate) {
        changes.push_back(MakeEvent("image", "image '" + v.image + "' is rebuilt",
                                    Action::kReplace));
      } else if (img != store_.images.end() && !rec.image_digest.empty() &&
                 img->second.digest != rec.image_digest) {
        changes.push_back(MakeEvent("image", "image '" + v.image + "' was rebuilt since",
                                    Action::kReplace));
      }
    }
    if (v.kernel == rec.spec.kernel) {
      Action a = ActionOf(kernel_addr);
      auto k = store_.kernels.find(v.kernel);
      if (a == Action::kReplace || a == Action::kCreate) {
        changes.push_back(MakeEvent("kernel", "kernel '" + v.kernel + "' is rebuilt",
                                    Action::kRestart));
      } else if (k != store_.kernels.end() && !rec.kernel_digest.empty() &&
                 k->second.digest != rec.kernel_digest) {
        changes.push_back(MakeEvent("kernel", "kernel '" + v.kernel + "' was rebuilt since",
                                    Action::kRestart));
      }
    }
  }

  void AddFileSyncChanges(const specs::VmSpec& v, const model::VmRecord& rec,
                          std::vector<Change>& changes) {
    for (const auto& f : v.file_sync) {
      if (std::find(rec.spec.file_sync.begin(), rec.spec.file_sync.end(), f) ==
          rec.spec.file_sync.end())
        continue;  // newly referenced: the file_sync list change covers it
      Action a = ActionOf(Address(ResourceKind::kFileSync, f));
      if (a == Action::kUpdate || a == Action::kCreate) {
        changes.push_back(MakeEvent("file_sync", "file_sync '" + f + "' changed",
                                    Action::kUpdate));
        continue;
      }
      auto now = observed_.file_sync_digests.find(f);
      auto synced = rec.synced.find(f);
      const std::string before = synced == rec.synced.end() ? "" : synced->second;
      if (now != observed_.file_sync_digests.end() && now->second != before) {
        changes.push_back(MakeEvent(
            "file_sync",
            "file_sync '" + f + "' " +
                (now->second.empty() ? "host path vanished" : "content changed"),
            Action::kUpdate));
      }
    }
  }

  void AddSettingsEffects(std::vector<Change>& changes) {
    for (const auto& c : settings_changes_) {
      Action a = Action::kNoOp;
      if (c.field == "bridge" || c.field == "subnet") a = Action::kRestart;
      if (c.field == "vmm") a = Action::kReplace;
      // Jailing changes only how Firecracker is started; the disks stay.
      if (c.field == "jailer") a = Action::kRestart;
      if (a != Action::kNoOp)
        changes.push_back(MakeChange("settings." + c.field, c.before, c.after, a));
    }
  }

  // Returns true when drift was found.
  bool AddLivenessDrift(const specs::VmSpec& v, bool stopped, std::vector<Change>& changes) {
    auto it = observed_.vms.find(v.name);
    if (it == observed_.vms.end()) return false;
    const model::VmLiveness& l = it->second;
    bool drift = false;
    if (l.has_handles && !l.rootfs_present) {
      AddDrift(changes, "rootfs disk missing", Action::kReplace);
      drift = true;
    }
    if (l.has_handles && !l.work_disk_present) {
      AddDrift(changes, "work disk missing", Action::kReplace);
      drift = true;
    }
    if (stopped) return drift;
    if (!l.has_handles || !l.process_running) {
      AddDrift(changes, "process not running", Action::kRestart);
      drift = true;
    } else if (!l.handles.tap.empty() && !l.tap_present) {
      AddDrift(changes, "tap '" + l.handles.tap + "' missing", Action::kRestart);
      drift = true;
    }
    return drift;
  }

  // Adds a delete step, or records it as withheld when observation was
  // incomplete.
  void AddDeletion(Step step, std::vector<Change> changes) {
    if (!plan_.observation_complete) {
      plan_.withheld.push_back({Address(step.kind, step.name), incomplete_reason_});
      return;
    }
    Add(std::move(step), std::move(changes));
  }

  void PlanDeletions() {
    std::set<std::string> images_in_use, kernels_in_use;
    for (const auto& v : desired_.vms) {
      images_in_use.insert(v.image);
      kernels_in_use.insert(v.kernel);
    }
    std::map<std::string, std::vector<std::string>> vm_deletes_by_image, vm_deletes_by_kernel;
    for (const auto& [name, rec] : store_.vms) {
      if (desired_.FindVm(name) || rec.origin != model::Origin::kSpec) continue;
      Step step = NewStep(ResourceKind::kVm, name, Action::kDelete);
      step.keep_work_disk = false;
      AddDeletion(std::move(step), {MakeEvent("", "no longer declared", Action::kDelete)});
      vm_deletes_by_image[rec.spec.image].push_back(Address(ResourceKind::kVm, name));
      vm_deletes_by_kernel[rec.spec.kernel].push_back(Address(ResourceKind::kVm, name));
    }
    // Replaced VMs also stop using their old image/kernel.
    for (const auto& v : desired_.vms) {
      auto rec = store_.vms.find(v.name);
      if (rec == store_.vms.end()) continue;
      const auto addr = Address(ResourceKind::kVm, v.name);
      if (ActionOf(addr) == Action::kReplace) {
        vm_deletes_by_image[rec->second.spec.image].push_back(addr);
        vm_deletes_by_kernel[rec->second.spec.kernel].push_back(addr);
      }
    }
    std::set<std::string> snapshots_going;
    for (PlannedStep& p : PlanSnapshotDeletions(desired_, observed_, Lookup(), &plan_)) {
      // The snapshot's disk copies may be layered on its source's image.
      vm_deletes_by_image[observed_.snapshots.at(p.step.name).image].push_back(
          Address(ResourceKind::kSnapshot, p.step.name));
      snapshots_going.insert(p.step.name);
      AddDeletion(std::move(p.step), std::move(p.changes));
    }
    // A snapshot that stays needs its image (its rootfs copy is an overlay
    // on it) and its kernel (the saved memory holds that kernel).
    std::map<std::string, std::string> image_kept_by, kernel_kept_by;
    for (const auto& [name, snapshot] : observed_.snapshots) {
      if (snapshots_going.count(name)) continue;
      image_kept_by.emplace(snapshot.image, name);
      kernel_kept_by.emplace(snapshot.kernel, name);
    }
    for (const auto& [name, rec] : store_.file_syncs) {
      if (desired_.FindFileSync(name)) continue;
      AddDeletion(NewStep(ResourceKind::kFileSync, name, Action::kDelete),
          {MakeEvent("", "no longer declared", Action::kDelete)});
    }
    for (const auto& [name, rec] : store_.images) {
      if (desired_.FindImage(name) || rec.origin != model::Origin::kSpec) continue;
      if (images_in_use.count(name)) {
        plan_.warnings.push_back("image." + name +
                                 " is no longer declared but VMs still use it; kept");
        continue;
      }
      if (auto held = image_kept_by.find(name); held != image_kept_by.end()) {
        plan_.warnings.push_back("image." + name + " is no longer declared but snapshot." +
                                 held->second + " is layered on it; kept");
        continue;
      }
      Step step = NewStep(ResourceKind::kImage, name, Action::kDelete);
      step.depends_on = vm_deletes_by_image[name];
      AddDeletion(std::move(step), {MakeEvent("", "no longer declared", Action::kDelete)});
    }
    for (const auto& [name, rec] : store_.kernels) {
      if (desired_.FindKernel(name) || rec.origin != model::Origin::kSpec) continue;
      if (kernels_in_use.count(name)) {
        plan_.warnings.push_back("kernel." + name +
                                 " is no longer declared but VMs still use it; kept");
        continue;
      }
      if (auto held = kernel_kept_by.find(name); held != kernel_kept_by.end()) {
        plan_.warnings.push_back("kernel." + name + " is no longer declared but snapshot." +
                                 held->second + " restores onto it; kept");
        continue;
      }
      Step step = NewStep(ResourceKind::kKernel, name, Action::kDelete);
      step.depends_on = vm_deletes_by_kernel[name];
      AddDeletion(std::move(step), {MakeEvent("", "no longer declared", Action::kDelete)});
    }
  }

  const specs::DesiredState& desired_;
  const Observed& observed_;
  const PlanOptions& options_;
  const model::StoreSnapshot& store_;
  Plan plan_;
  std::string incomplete_reason_;  // what could not be read, for withheld deletions
  std::map<std::string, Action> actions_;
  std::vector<Change> settings_changes_;
};

}  // namespace

Plan MakePlan(const specs::DesiredState& desired, const Observed& observed,
              const PlanOptions& options) {
  return PlanBuilder(desired, observed, options).Build();
}

}  // namespace banger::plan
