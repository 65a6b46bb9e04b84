#include "reconciler/observe/observer.h"

#include <unistd.h>

#include "reconciler/observe/bound_sockets.h"
#include "reconciler/os/fs.h"

namespace banger::observe {

plan::Observed Observe(Result<model::StoreSnapshot> snapshot,
                       const specs::DesiredState& desired, const ObserverDeps& deps) {
  plan::Observed o;
  const long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page_size > 0)
    o.host_memory_bytes = static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size);
  if (!snapshot.ok()) {
    o.store_ok = false;
    o.store_error = snapshot.error().message();
  } else {
    o.store = std::move(snapshot).value();
  }
  for (const auto& [name, rec] : o.store.vms) {
    if (!deps.vms) break;
    auto liveness = deps.vms->Observe(name);
    if (!liveness.ok()) {
      o.handle_errors.push_back("vm " + Quote(name) + ": " + liveness.error().message());
      continue;
    }
    o.vms[name] = std::move(liveness).value();
  }
  for (const auto& [name, rec] : o.store.kernels) {
    if (deps.kernels) o.kernel_present[name] = deps.kernels->Present(rec);
  }
  for (const auto& [name, rec] : o.store.images) {
    if (deps.images) o.image_present[name] = deps.images->Present(rec);
  }
  for (const auto& [name, rec] : o.store.snapshots) {
    const model::SnapshotMeta& m = rec.meta;
    plan::ObservedSnapshot seen;
    seen.source_vm = m.source_vm;
    seen.declared = rec.origin == model::Origin::kSpec;
    seen.present = deps.snapshot_present ? deps.snapshot_present(rec) : true;
    seen.image = m.image_name;
    seen.kernel = m.kernel_name;
    seen.image_digest = m.image_digest;
    seen.kernel_digest = m.kernel_digest;
    seen.memory = m.memory_bytes;
    seen.vcpus = m.vcpus;
    o.snapshots[name] = std::move(seen);
  }
  o.restored_from = o.store.restored_from;
  for (const auto& f : desired.file_syncs) {
    auto digest = DigestHostPath(ExpandTilde(f.host, deps.home));
    // An unreadable host file is the sync step's error to report, with the
    // entry named; here it just counts as "changed".
    o.file_sync_digests[f.name] = digest.ok() ? *digest : "unreadable";
  }
  std::set<uint32_t> ports;
  for (const auto& v : desired.vms) {
    for (const auto& p : v.ports) ports.insert(p.host_port);
  }
  if (!ports.empty()) o.bound_sockets = ReadBoundSockets(ports);
  if (deps.remote_digest) {
    for (const auto& i : desired.images) {
      // Only built images can drift; an unbuilt one is pulled anyway.
      if (i.source != specs::ImageSource::kOci || !o.store.images.count(i.name)) continue;
      auto d = deps.remote_digest(i);
      if (d.ok()) {
        if (!d->empty()) o.image_remote_digests[i.name] = *d;
      } else {
        o.image_remote_errors[i.name] = d.error().message();
      }
    }
  }
  return o;
}

}  // namespace banger::observe
