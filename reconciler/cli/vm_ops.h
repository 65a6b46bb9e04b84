// The imperative VM operations (`banger vm stop|start|restart|rm`). They
// take the same per-VM lock and call the same VmRuntime as apply, so an
// imperative stop and an apply never act on a VM at the same time.
#pragma once

#include <string>

#include "reconciler/cli/session.h"

namespace banger::cli {

enum class VmOp { kStop, kStart, kRestart, kRemove };

// Runs `op` on the VM named `name`; progress notes go to `progress`.
Status RunVmOp(Session& session, const std::string& name, VmOp op,
               apply::StepProgress& progress);

}  // namespace banger::cli
