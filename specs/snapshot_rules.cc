// Checks of [[snapshot]] and vm.from_snapshot that span objects, and the
// fields a clone takes from its snapshot's source VM.
//
// A restored guest keeps the machine it was saved on: its kernel is the one
// in memory, its memory size and vCPU count are part of the saved device
// state, and its disks are copies of the source's (the root filesystem's
// blocks and the work disk's size are what the saved kernel saw). So a clone
// takes image, kernel, vcpus, memory and disk from the source VM; writing
// one of them is allowed only with the source's value.
#include "specs/snapshot_rules.h"

#include <algorithm>
#include <set>

#include "specs/did_you_mean.h"
#include "specs/loader.h"

namespace banger::specs {
namespace {

std::vector<std::string> VmNames(const DesiredState& state) {
  std::vector<std::string> names;
  for (const VmSpec& v : state.vms) names.push_back(v.name);
  return names;
}

std::vector<std::string> SnapshotNames(const DesiredState& state) {
  std::vector<std::string> names;
  for (const SnapshotSpec& s : state.snapshots) names.push_back(s.name);
  return names;
}

class SnapshotChecker {
 public:
  explicit SnapshotChecker(ParseOutcome* out) : out_(out), state_(out->state) {}

  void Run() {
    const std::vector<std::string> vms = VmNames(state_);
    for (const SnapshotSpec& s : state_.snapshots) {
      if (s.vm.empty() || state_.FindVm(s.vm)) continue;
      Report(At("snapshot." + s.name + ".vm", s.where), "snapshot." + s.name + ".vm",
             "unknown vm " + Quote(s.vm) + DidYouMean(s.vm, vms));
    }
    for (size_t i = 0; i < state_.vms.size(); ++i) Resolve(state_.vms[i].name);
  }

 private:
  // Fills in the inherited fields of `name` (and of its sources first).
  // Returns false when the VM cannot be resolved (an error was reported).
  bool Resolve(const std::string& name) {
    if (resolved_.count(name)) return true;
    if (failed_.count(name)) return false;
    VmSpec* vm = FindMutable(name);
    if (!vm) return false;
    if (vm->from_snapshot.empty()) {
      resolved_.insert(name);
      return true;
    }
    const std::string key = "vm." + name + ".from_snapshot";
    const SnapshotSpec* snapshot = state_.FindSnapshot(vm->from_snapshot);
    if (!snapshot) {
      Fail(name, key, "unknown snapshot " + Quote(vm->from_snapshot) +
                          DidYouMean(vm->from_snapshot, SnapshotNames(state_)));
      return false;
    }
    if (snapshot->vm == name) {
      Fail(name, key, "snapshot " + Quote(snapshot->name) + " is a snapshot of vm " +
                          Quote(name) + " itself; a VM cannot start from its own snapshot");
      return false;
    }
    if (auto first = std::find(stack_.begin(), stack_.end(), snapshot->vm);
        first != stack_.end()) {
      std::vector<std::string> cycle(first, stack_.end());
      cycle.push_back(name);
      std::string path;
      for (const std::string& v : cycle)
        path += "vm." + v + " -> snapshot." + state_.FindVm(v)->from_snapshot + " -> ";
      Fail(name, key, "snapshots form a cycle: " + path + "vm." + cycle.front());
      return false;
    }
    stack_.push_back(name);
    bool source_ok = Resolve(snapshot->vm);
    stack_.pop_back();
    const VmSpec* source = state_.FindVm(snapshot->vm);
    if (!source_ok || !source) {
      failed_.insert(name);
      return false;
    }
    Inherit(*source, *snapshot, vm);
    resolved_.insert(name);
    return true;
  }

  void Inherit(const VmSpec& source, const SnapshotSpec& snapshot, VmSpec* vm) {
    const std::string why = "; a clone restores vm." + source.name + "'s saved kernel, " +
                            "memory, CPUs and disks (snapshot " + Quote(snapshot.name) +
                            "), so leave the key out or give the same value";
    auto field = [&](const char* key, auto* value, const auto& from, auto render) {
      const std::string path = "vm." + vm->name + "." + key;
      if (out_->locations.count(path) && *value != from) {
        Report(At(path, vm->where), path,
               std::string(key) + " " + render(*value) + " differs from vm." + source.name +
                   "'s " + render(from) + why);
      }
      *value = from;
    };
    auto text = [](const std::string& s) { return Quote(s); };
    auto number = [](int n) { return std::to_string(n); };
    auto size = [](uint64_t b) { return FormatSize(b); };
    field("image", &vm->image, source.image, text);
    field("kernel", &vm->kernel, source.kernel, text);
    field("vcpus", &vm->vcpus, source.vcpus, number);
    field("memory", &vm->memory, source.memory, size);
    field("disk", &vm->disk, source.disk, size);
  }

  VmSpec* FindMutable(const std::string& name) {
    auto it = std::find_if(state_.vms.begin(), state_.vms.end(),
                           [&](const VmSpec& v) { return v.name == name; });
    return it == state_.vms.end() ? nullptr : &*it;
  }

  SourceLocation At(const std::string& key, const SourceLocation& fallback) const {
    auto it = out_->locations.find(key);
    return it == out_->locations.end() ? fallback : it->second;
  }

  void Fail(const std::string& vm, const std::string& key, std::string message) {
    failed_.insert(vm);
    const VmSpec* spec = state_.FindVm(vm);
    Report(At(key, spec ? spec->where : SourceLocation{}), key, std::move(message));
  }

  void Report(SourceLocation where, std::string key, std::string message) {
    out_->errors.push_back({std::move(where), std::move(key), std::move(message)});
  }

  ParseOutcome* out_;
  DesiredState& state_;
  std::set<std::string> resolved_, failed_;
  std::vector<std::string> stack_;  // clones whose sources are being resolved
};

}  // namespace

void CheckSnapshots(ParseOutcome* outcome) { SnapshotChecker(outcome).Run(); }

}  // namespace banger::specs
