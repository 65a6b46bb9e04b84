// Kernel modules for the guest initramfs: which ones, their dependencies,
// and the order to load them in.
//
// Dependencies come from each module's own `.modinfo` ELF section
// (`depends=a,b`), so no modules.dep or depmod is needed and a hand-picked
// modules directory works as well as a distribution's tree. Modules may be
// stored plain (.ko, as Debian 6.1 ships them) or compressed (.ko.xz,
// .ko.zst, .ko.gz, as later kernels do); the initramfs always receives plain
// .ko files because busybox insmod does not decompress.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "reconciler/base/error.h"

namespace banger::kernel {

// What every banger guest needs before it can mount its root: virtio
// transports (mmio for microvm/Firecracker, pci for q35), block, net,
// console and vsock. Whichever of them a kernel has built in are simply
// absent from its module tree.
const std::vector<std::string>& GuestModuleNames();

// "virtio-blk" and "virtio_blk" name the same module.
std::string NormalizeModuleName(std::string_view name);

// The key=value strings of an ELF's `.modinfo` section, in order.
Result<std::vector<std::pair<std::string, std::string>>> ReadModinfo(std::string_view elf);

// The `depends=` list of a module image (plain ELF), normalized.
Result<std::vector<std::string>> ModuleDepends(std::string_view elf);

// Topological load order of `roots` and everything they depend on,
// dependencies first. Ties are broken by name so the order is stable.
// Fails naming the module when a dependency is unknown or on a cycle.
Result<std::vector<std::string>> LoadOrder(
    const std::map<std::string, std::vector<std::string>>& depends,
    const std::vector<std::string>& roots);

struct GuestModule {
  std::string name;    // normalized, e.g. "virtio_blk"
  std::string source;  // file it was read from
  std::string elf;     // plain module image
  std::vector<std::string> depends;
};

// Scans `modules_dir` recursively for modules (regular files only: links
// are neither followed nor read), picks those of `wanted`
// that exist (the others are taken to be built in) plus their dependency
// closure, and returns them in load order.
Result<std::vector<GuestModule>> CollectGuestModules(const std::string& modules_dir,
                                                     const std::vector<std::string>& wanted);

}  // namespace banger::kernel
