#include <cstdlib>

// Wires the real effect implementations for a state dir.
#include "reconciler/cli/session.h"
#include "reconciler/access/ssh_guest_access.h"
#include "reconciler/image/file_image_store.h"
#include "reconciler/kernel/file_kernel_store.h"
#include "reconciler/oci/oci_image_source.h"
#include "reconciler/os/exec.h"
#include "reconciler/os/fs.h"
#include "reconciler/runtime/helper_jail.h"
#include "reconciler/runtime/helper_network.h"
#include "reconciler/runtime/local_vm_runtime.h"
#include "reconciler/snapshot/snapshot_service.h"
#include "reconciler/vmm/firecracker/firecracker_driver.h"
#include "reconciler/vmm/qemu/qemu_driver.h"

namespace banger::cli {

Result<Runtime> MakeRuntime(const store::StatePaths& paths, const specs::Settings& settings) {
  const image::ExtractLimits limits{.max_total_bytes = settings.image_max_size,
                                    .max_entries = settings.image_max_files};
  const std::string cache = store::CacheDirFromProcess();
  Runtime rt;
  auto kernels = std::make_unique<kernel::FileKernelStore>(paths.kernels_dir(),
                                                           paths.staging_dir(), cache,
                                                           SystemRunner());
  rt.kernel_store = kernels.get();
  rt.kernels = std::move(kernels);
  image::ImageStoreOptions opts;
  opts.images_dir = paths.images_dir();
  opts.staging_dir = paths.staging_dir();
  auto images = std::make_unique<image::FileImageStore>(
      opts, image::BuiltinImageSources({.cache_dir = cache, .runner = nullptr, .limits = limits}));
  images->sources().Register(specs::ImageSource::kOci,
                             std::make_unique<oci::OciImageSource>(cache, limits));
  rt.image_store = images.get();
  rt.images = std::move(images);
  runtime::VmRuntimeOptions vm;
  vm.paths = paths;
  vm.home = HomeDir();
  vm.drivers.push_back(std::make_unique<vmm::QemuDriver>());
  vmm::FirecrackerDriverOptions fc = vmm::FirecrackerDriverOptions::FromEnvironment();
  fc.jail_launcher = std::make_shared<runtime::HelperJailLauncher>(net::HelperClientOptions{});
  vm.drivers.push_back(std::make_unique<vmm::FirecrackerDriver>(std::move(fc)));
  runtime::HelperNetworkOptions net;
  if (const char* pool = getenv("BANGER_TAP_POOL"); pool && *pool) net.pool_size = std::strtoul(pool, nullptr, 10);
  vm.network = std::make_unique<runtime::HelperVmNetwork>(net);
  auto ssh = std::make_unique<access::SshGuestAccess>(store::ConfigDirFromProcess(),
                                                      SystemRunner());
  rt.ssh = ssh.get();
  vm.access = std::move(ssh);
  auto vms = std::make_unique<runtime::LocalVmRuntime>(std::move(vm));
  rt.local_vms = vms.get();
  rt.snapshots = std::make_shared<snapshot::SnapshotService>(paths, *vms);
  rt.vms = std::move(vms);
  return rt;
}

}  // namespace banger::cli
