#include "reconciler/cli/vm_ops.h"

#include "reconciler/apply/vm_inputs.h"
#include "reconciler/os/file_lock.h"
#include "reconciler/os/fs.h"

namespace banger::cli {

namespace {

Status RunLocked(Session& session, const std::string& name, VmOp op,
                 apply::StepProgress& progress) {
  BANGER_RETURN_IF_ERROR(MakeDirs(session.paths.locks_dir(), 0700));
  BANGER_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(session.paths.vm_lock(name)));
  // Read after taking the lock: an apply may have just changed the VM.
  BANGER_ASSIGN_OR_RETURN(model::StoreSnapshot snap, session.store->Load());
  auto it = snap.vms.find(name);
  if (it == snap.vms.end()) return NotFoundInState(session, "vm", name);
  model::VmRecord rec = it->second;
  apply::VmRuntime& vms = *session.runtime.vms;

  switch (op) {
    case VmOp::kStop:
      BANGER_RETURN_IF_ERROR(vms.Stop(rec, progress));
      rec.power = model::PowerIntent::kStopped;
      return session.store->PutVm(rec);
    case VmOp::kRestart:
      BANGER_RETURN_IF_ERROR(vms.Stop(rec, progress));
      [[fallthrough]];
    case VmOp::kStart: {
      BANGER_ASSIGN_OR_RETURN(apply::VmInputs inputs, apply::ResolveVmInputs(rec.spec, snap, nullptr));
      BANGER_RETURN_IF_ERROR(vms.Start(rec, inputs, progress));
      rec.power = model::PowerIntent::kRunning;
      rec.kernel_digest = inputs.kernel.digest;
      return session.store->PutVm(rec);
    }
    case VmOp::kRemove:
      BANGER_RETURN_IF_ERROR(vms.Destroy(rec, /*keep_work_disk=*/false, progress));
      return session.store->DeleteVm(name);
  }
  return OkStatus();
}

}  // namespace

Status RunVmOp(Session& session, const std::string& name, VmOp op,
               apply::StepProgress& progress) {
  Status st = RunLocked(session, name, op, progress);
  // ssh's config names every VM with an address: keep it true after any
  // change to the VM set, whether or not the operation itself succeeded.
  if (Status ssh = RefreshSshConfig(session); !ssh.ok() && st.ok()) return ssh;
  return st;
}

}  // namespace banger::cli
