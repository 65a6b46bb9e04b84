// Choosing QEMU's accelerator: KVM when it accepts a guest, else TCG.
//
// /dev/kvm existing is not enough: on a host that is itself a
// paravirtualised guest, KVM may reject standard vCPU models (QEMU aborts
// with "failed to set MSR" while setting up the vCPU), or accept the vCPU
// and then hang a standard kernel early in its boot. So there are two
// probes: a paused microvm with the exact CPU settings a launch uses, asked
// to quit over QMP (cheap; what `doctor` reports), and, before a launch,
// the kernel about to boot, run under KVM until it prints its banner. Only
// a kernel that gets that far under KVM is launched with KVM.
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
// unset); anything but "", "kvm" or "tcg" is an error. With a `kernel`,
// KVM is chosen only when that kernel also boots under it
// (VerifyKvmBoots). Probe results are cached per binary and kernel for the
// life of the process and, with a `cache_dir`, in a file keyed by the
// binary, the kernel (path, size, mtime) and the host's boot id, so each
// kernel is probed once per boot rather than once per command.
Result<AccelChoice> ChooseAccel(CommandRunner& runner, const std::string& qemu_binary,
                                const std::string& forced, const std::string& kernel = "",
                                const std::string& cache_dir = "");

// Runs the KVM probe without the cache. Empty string: KVM works; otherwise
// why not.
std::string ProbeKvm(CommandRunner& runner, const std::string& qemu_binary);

// Boots `kernel` under KVM with no disks (it panics for want of a root and
// QEMU exits) and looks for the kernel's "Linux version" banner on the
// serial console within `timeout`. Empty string: it booted; otherwise why
// not.
std::string VerifyKvmBoots(CommandRunner& runner, const std::string& qemu_binary,
                           const std::string& kernel, std::chrono::milliseconds timeout);

}  // namespace banger::vmm
