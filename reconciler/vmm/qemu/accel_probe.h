// Choosing QEMU's accelerator: KVM when it accepts a guest, else TCG.
//
// /dev/kvm existing is not enough: on a host that is itself a
// paravirtualised guest, KVM may reject standard vCPU models (QEMU aborts
// with "failed to set MSR" while setting up the vCPU). The probe therefore
// starts a paused microvm with the exact CPU settings a launch uses and asks
// it to quit over QMP on stdin: a clean exit means KVM works.
#pragma once

#include <string>

#include "reconciler/base/error.h"
#include "reconciler/os/exec.h"

namespace banger::vmm {

struct AccelChoice {
  std::string accel;   // "kvm" | "tcg"
  bool forced = false; // chosen by BANGER_ACCEL, not by probing
  std::string detail;  // why this one (for `banger doctor`-style output)
};

// The QEMU arguments that select an accelerator (shared by probe and launch
// so the probe tests exactly what a launch will ask for).
std::vector<std::string> AccelArgs(const std::string& accel);

// Decides for `qemu_binary`. `forced` is the value of BANGER_ACCEL ("" when
// unset); anything but "", "kvm" or "tcg" is an error. Probe results are
// cached per binary for the life of the process.
Result<AccelChoice> ChooseAccel(CommandRunner& runner, const std::string& qemu_binary,
                                const std::string& forced);

// Runs the KVM probe without the cache. Empty string: KVM works; otherwise
// why not.
std::string ProbeKvm(CommandRunner& runner, const std::string& qemu_binary);

}  // namespace banger::vmm
