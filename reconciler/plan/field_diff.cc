#include "reconciler/plan/field_diff.h"

#include <algorithm>

#include "specs/loader.h"

namespace banger::plan {
namespace {

std::string Or(const std::string& s, const char* empty = "(none)") {
  return s.empty() ? empty : s;
}

std::string RenderBool(bool b) { return b ? "true" : "false"; }

std::string RenderMode(const std::optional<uint32_t>& mode) {
  if (!mode) return "(default)";
  char buf[16];
  snprintf(buf, sizeof buf, "%04o", *mode);
  return buf;
}

std::string RenderLabels(const std::map<std::string, std::string>& labels) {
  std::string out = "{";
  for (const auto& [k, v] : labels) {
    if (out.size() > 1) out += ", ";
    out += k + "=" + v;
  }
  return out + "}";
}

class Differ {
 public:
  void Field(std::string name, const std::string& before, const std::string& after,
             Action consequence) {
    if (before != after) changes.push_back(MakeChange(std::move(name), before, after, consequence));
  }
  std::vector<Change> changes;
};

}  // namespace

Change MakeChange(std::string field, std::string before, std::string after,
                  Action consequence) {
  Change c;
  c.reason = field + " " + before + " -> " + after + ": " +
             std::string(ActionName(consequence));
  c.field = std::move(field);
  c.before = std::move(before);
  c.after = std::move(after);
  c.consequence = consequence;
  return c;
}

Change MakeEvent(std::string field, std::string what, Action consequence) {
  Change c;
  c.reason = what + ": " + std::string(ActionName(consequence));
  c.field = std::move(field);
  c.consequence = consequence;
  return c;
}

std::string RenderSize(uint64_t bytes) { return specs::FormatSize(bytes); }

std::string RenderList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += items[i];
  }
  return out + "]";
}

Action Strongest(const std::vector<Change>& changes) {
  Action a = Action::kNoOp;
  for (const auto& c : changes) a = std::max(a, c.consequence);
  return a;
}

std::vector<Change> DiffSettings(const specs::Settings& applied,
                                 const specs::Settings& desired) {
  // state_dir is not compared: it selects which store is read at all.
  Differ d;
  d.Field("bridge", applied.bridge, desired.bridge, Action::kUpdate);
  d.Field("subnet", applied.subnet, desired.subnet, Action::kUpdate);
  d.Field("vmm", applied.vmm, desired.vmm, Action::kUpdate);
  d.Field("jailer", RenderBool(applied.jailer), RenderBool(desired.jailer), Action::kUpdate);
  d.Field("kernel_catalog", Or(applied.kernel_catalog), Or(desired.kernel_catalog),
          Action::kUpdate);
  // The image limits only bound future builds; built images stay as they are.
  d.Field("image_max_size", RenderSize(applied.image_max_size),
          RenderSize(desired.image_max_size), Action::kUpdate);
  d.Field("image_max_files", std::to_string(applied.image_max_files),
          std::to_string(desired.image_max_files), Action::kUpdate);
  // The daemon's settings change only what the daemon does next.
  d.Field("daemon_interval", std::to_string(applied.daemon_interval) + "s",
          std::to_string(desired.daemon_interval) + "s", Action::kUpdate);
  d.Field("daemon_destructive", RenderBool(applied.daemon_destructive),
          RenderBool(desired.daemon_destructive), Action::kUpdate);
  return d.changes;
}

std::vector<Change> DiffKernel(const specs::KernelSpec& applied,
                               const specs::KernelSpec& desired) {
  Differ d;
  const auto R = Action::kReplace;
  if (applied.source != desired.source) {
    d.Field("source", std::string(specs::KernelSourceName(applied.source)),
            std::string(specs::KernelSourceName(desired.source)), R);
    return d.changes;
  }
  d.Field("deb", Or(applied.deb), Or(desired.deb), R);
  d.Field("path.kernel", Or(applied.path_kernel), Or(desired.path_kernel), R);
  d.Field("path.initrd", Or(applied.path_initrd), Or(desired.path_initrd), R);
  d.Field("path.modules", Or(applied.path_modules), Or(desired.path_modules), R);
  d.Field("url", Or(applied.url), Or(desired.url), R);
  d.Field("sha256", Or(applied.sha256), Or(desired.sha256), R);
  d.Field("catalog", Or(applied.catalog), Or(desired.catalog), R);
  return d.changes;
}

std::vector<Change> DiffImage(const specs::ImageSpec& applied,
                              const specs::ImageSpec& desired) {
  Differ d;
  const auto R = Action::kReplace;
  if (applied.source != desired.source) {
    d.Field("source", std::string(specs::ImageSourceName(applied.source)),
            std::string(specs::ImageSourceName(desired.source)), R);
  } else {
    d.Field("oci", Or(applied.oci), Or(desired.oci), R);
    d.Field("platform", applied.platform, desired.platform, R);
    d.Field("dir", Or(applied.dir), Or(desired.dir), R);
    d.Field("tar", Or(applied.tar), Or(desired.tar), R);
    d.Field("debootstrap.suite", Or(applied.suite), Or(desired.suite), R);
    d.Field("debootstrap.mirror", Or(applied.mirror, "(default)"),
            Or(desired.mirror, "(default)"), R);
    d.Field("debootstrap.include", RenderList(applied.include),
            RenderList(desired.include), R);
  }
  d.Field("size", applied.size ? RenderSize(*applied.size) : "(auto)",
          desired.size ? RenderSize(*desired.size) : "(auto)", R);
  // Only affects how the next pull talks to the registry.
  d.Field("insecure", RenderBool(applied.insecure), RenderBool(desired.insecure),
          Action::kUpdate);
  return d.changes;
}

std::vector<Change> DiffFileSync(const specs::FileSyncSpec& applied,
                                 const specs::FileSyncSpec& desired) {
  Differ d;
  d.Field("host", applied.host, desired.host, Action::kUpdate);
  d.Field("guest", applied.guest, desired.guest, Action::kUpdate);
  d.Field("mode", RenderMode(applied.mode), RenderMode(desired.mode), Action::kUpdate);
  return d.changes;
}

static std::string RenderWorkspace(const std::optional<specs::WorkspaceSpec>& ws) {
  if (!ws) return "(none)";
  return "{repo=" + ws->repo + ", ref=" + Or(ws->ref, "(working tree)") + "}";
}

// An update in place: the guest's /root/repo is replaced by a fresh import
// (what was done in it is lost: export it first), or left as it is when the
// workspace is removed from the spec.
static Change WorkspaceChange(const std::optional<specs::WorkspaceSpec>& applied,
                              const std::optional<specs::WorkspaceSpec>& desired) {
  Change c = MakeChange("workspace", RenderWorkspace(applied), RenderWorkspace(desired),
                        Action::kUpdate);
  c.reason += desired ? " (the guest's /root/repo is replaced by a fresh import)"
                      : " (the guest's /root/repo stays as it is)";
  return c;
}

static std::string RenderPorts(const std::vector<specs::PortSpec>& ports) {
  std::vector<std::string> items;
  for (const auto& p : ports) items.push_back(specs::FormatPortSpec(p));
  return RenderList(items);
}

namespace {

// Fields applied to a running VM without restarting it.
void DiffInPlaceFields(Differ& d, const specs::VmSpec& applied, const specs::VmSpec& desired) {
  d.Field("nat", RenderBool(applied.nat), RenderBool(desired.nat), Action::kUpdate);
  d.Field("file_sync", RenderList(applied.file_sync), RenderList(desired.file_sync),
          Action::kUpdate);
  d.Field("labels", RenderLabels(applied.labels), RenderLabels(desired.labels),
          Action::kUpdate);
  d.Field("keep_work_disk", RenderBool(applied.keep_work_disk),
          RenderBool(desired.keep_work_disk), Action::kUpdate);
  d.Field("ports", RenderPorts(applied.ports), RenderPorts(desired.ports), Action::kUpdate);
  // Read by the daemon only: recorded, nothing on the VM changes.
  d.Field("restart", std::string(specs::RestartPolicyName(applied.restart)),
          std::string(specs::RestartPolicyName(desired.restart)), Action::kUpdate);
  if (applied.workspace != desired.workspace)
    d.changes.push_back(WorkspaceChange(applied.workspace, desired.workspace));
}

}  // namespace

std::vector<Change> DiffVm(const specs::VmSpec& applied, const specs::VmSpec& desired,
                           std::vector<std::string>* errors) {
  Differ d;
  d.Field("from_snapshot", applied.from_snapshot, desired.from_snapshot, Action::kReplace);
  // A clone's image, kernel and shape are its snapshot's, saved with it; a
  // source VM that changed since is the snapshot's drift, not the clone's.
  const bool same_clone = !desired.from_snapshot.empty() &&
                          applied.from_snapshot == desired.from_snapshot;
  if (!same_clone) {
    d.Field("image", applied.image, desired.image, Action::kReplace);
    d.Field("kernel", applied.kernel, desired.kernel, Action::kReplace);
    d.Field("vcpus", std::to_string(applied.vcpus), std::to_string(desired.vcpus),
            Action::kRestart);
    d.Field("memory", RenderSize(applied.memory), RenderSize(desired.memory),
            Action::kRestart);
    if (desired.disk > applied.disk) {
      d.Field("disk", RenderSize(applied.disk), RenderSize(desired.disk), Action::kRestart);
    } else if (desired.disk < applied.disk && desired.from_snapshot.empty()) {
      errors->push_back(Address(ResourceKind::kVm, desired.name) + ": disk " +
                        RenderSize(applied.disk) + " -> " + RenderSize(desired.disk) +
                        ": shrinking a work disk is not supported (keep the size, or "
                        "delete the VM with `banger vm rm " + desired.name + "` first)");
    }
  }
  DiffInPlaceFields(d, applied, desired);
  return d.changes;
}

}  // namespace banger::plan
