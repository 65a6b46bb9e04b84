// Writes a state dir in which N VMs of a bench spec are converged: records
// in the store and handles pointing at a live process, so `banger plan`
// has nothing to do. Used by tests/bench/run.py; not part of banger.
//
//   plan_fixture STATE_DIR COUNT PID
#include <cstdio>
#include <cstdlib>
#include <string>

#include "reconciler/os/fs.h"
#include "reconciler/store/handles_file.h"
#include "reconciler/store/state_dir.h"
#include "reconciler/store/store.h"
#include "reconciler/vmm/driver.h"

using namespace banger;

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: plan_fixture STATE_DIR COUNT PID\n");
    return 2;
  }
  const std::string state = argv[1];
  const int count = atoi(argv[2]);
  const pid_t pid = static_cast<pid_t>(atoi(argv[3]));
  auto store = store::Store::Open(state);
  if (!store.ok()) { fprintf(stderr, "%s\n", store.error().message().c_str()); return 1; }
  auto snap = (*store)->Load();
  if (!snap.ok() || !snap->kernels.count("k") || !snap->images.count("img")) {
    fprintf(stderr, "apply the artifacts (kernel k, image img) first\n");
    return 1;
  }
  store::StatePaths paths(state);
  Status st = (*store)->Write([&](store::StoreTxn& txn) -> Status {
    for (int i = 0; i < count; ++i) {
      model::VmRecord r;
      r.spec.name = "vm" + std::to_string(i);
      r.spec.image = "img";
      r.spec.kernel = "k";
      r.kernel_digest = snap->kernels.at("k").digest;
      r.image_digest = snap->images.at("img").digest;
      BANGER_RETURN_IF_ERROR(txn.PutVm(r));
      const std::string dir = paths.vm_dir(r.spec.name);
      BANGER_RETURN_IF_ERROR(MakeDirs(dir, 0700));
      model::VmHandles h;
      h.vmm = "qemu";
      h.pid = pid;
      h.pid_start_ticks = ProcessStartTicks(pid);
      h.rootfs = JoinPath(dir, "rootfs.qcow2");
      h.work_disk = JoinPath(dir, "work.ext4");
      BANGER_RETURN_IF_ERROR(AtomicWriteFile(h.rootfs, "", 0600));
      BANGER_RETURN_IF_ERROR(AtomicWriteFile(h.work_disk, "", 0600));
      BANGER_RETURN_IF_ERROR(store::WriteHandles(paths.handles(r.spec.name), h));
    }
    return OkStatus();
  });
  if (!st.ok()) { fprintf(stderr, "%s\n", st.error().message().c_str()); return 1; }
  return 0;
}
