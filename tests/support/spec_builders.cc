#include "tests/support/spec_builders.h"

namespace banger::testing {

specs::KernelSpec Kernel(const std::string& name, const std::string& deb) {
  specs::KernelSpec k;
  k.name = name;
  k.source = specs::KernelSource::kDeb;
  k.deb = deb;
  return k;
}

specs::ImageSpec DirImage(const std::string& name, const std::string& dir) {
  specs::ImageSpec i;
  i.name = name;
  i.source = specs::ImageSource::kDir;
  i.dir = dir;
  return i;
}

specs::FileSyncSpec FileSync(const std::string& name, const std::string& host,
                             const std::string& guest) {
  specs::FileSyncSpec f;
  f.name = name;
  f.host = host;
  f.guest = guest;
  return f;
}

specs::VmSpec Vm(const std::string& name, const std::string& image, const std::string& kernel) {
  specs::VmSpec v;
  v.name = name;
  v.image = image;
  v.kernel = kernel;
  return v;
}

specs::DesiredState Fleet(std::vector<specs::VmSpec> vms) {
  specs::DesiredState d;
  d.kernels.push_back(Kernel("default"));
  d.images.push_back(DirImage("base"));
  d.vms = std::move(vms);
  return d;
}

specs::VmSpec Clone(const std::string& name, const std::string& snapshot,
                    const specs::VmSpec& source) {
  specs::VmSpec v = source;
  v.name = name;
  v.from_snapshot = snapshot;
  v.labels.clear();
  v.ports.clear();
  return v;
}

plan::Observed Converged(const specs::DesiredState& desired, int64_t serial) {
  plan::Observed o;
  o.store.serial = serial;
  if (!(desired.settings == specs::Settings{})) o.store.settings = desired.settings;
  for (const auto& k : desired.kernels) {
    model::KernelRecord r;
    r.spec = k;
    r.digest = "kdigest-" + k.name;
    r.dir = "/state/kernels/" + r.digest;
    o.store.kernels[k.name] = r;
    o.kernel_present[k.name] = true;
  }
  for (const auto& i : desired.images) {
    model::ImageRecord r;
    r.spec = i;
    r.digest = "idigest-" + i.name;
    r.dir = "/state/images/" + i.name;
    o.store.images[i.name] = r;
    o.image_present[i.name] = true;
  }
  for (const auto& f : desired.file_syncs) {
    o.store.file_syncs[f.name] = model::FileSyncRecord{f};
    o.file_sync_digests[f.name] = "fdigest-" + f.name;
  }
  int host = 2;
  for (const auto& v : desired.vms) {
    model::VmRecord r;
    r.spec = v;
    r.ip = "172.30.0." + std::to_string(host++);
    r.kernel_digest = "kdigest-" + v.kernel;
    r.image_digest = "idigest-" + v.image;
    for (const auto& f : v.file_sync) r.synced[f] = "fdigest-" + f;
    o.store.vms[v.name] = r;
    model::VmLiveness l;
    l.has_handles = true;
    l.handles.pid = 1000 + host;
    l.handles.tap = "bg-" + v.name;
    l.process_running = l.tap_present = l.rootfs_present = l.work_disk_present = true;
    o.vms[v.name] = l;
  }
  for (const auto& s : desired.snapshots) {
    plan::ObservedSnapshot snapshot;
    snapshot.source_vm = s.vm;
    snapshot.declared = true;
    if (const specs::VmSpec* source = desired.FindVm(s.vm)) {
      snapshot.image = source->image;
      snapshot.kernel = source->kernel;
      snapshot.image_digest = "idigest-" + source->image;
      snapshot.kernel_digest = "kdigest-" + source->kernel;
      snapshot.memory = source->memory;
      snapshot.vcpus = source->vcpus;
    }
    o.snapshots[s.name] = snapshot;
  }
  for (const auto& v : desired.vms)
    if (!v.from_snapshot.empty()) o.restored_from[v.name] = v.from_snapshot;
  return o;
}

}  // namespace banger::testing
