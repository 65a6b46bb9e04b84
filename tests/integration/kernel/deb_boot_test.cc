// THE boot test: Debian's cloud kernel package -> generated initramfs ->
// a real QEMU microvm boot (TCG) of a tiny root filesystem with a work disk.
//
// .debs are cached in $BANGER_CACHE_DIR (default /var/cache/banger-test) so
// reruns do not download 27 MB again.
#include <catch2/catch.hpp>

#include <dirent.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <set>
#include <thread>

#include "reconciler/kernel/debian_packages.h"
#include "reconciler/kernel/file_kernel_store.h"
#include "reconciler/kernel/initramfs.h"
#include "reconciler/os/exec.h"
#include "reconciler/os/fs.h"
#include "tests/support/test_env.h"

using namespace banger;
using namespace banger::kernel;
using Clock = std::chrono::steady_clock;

namespace {

std::string CacheDir() {
  const char* dir = getenv("BANGER_CACHE_DIR");
  return dir && *dir ? dir : "/var/cache/banger-test";
}

class CollectingProgress : public apply::StepProgress {
 public:
  std::vector<std::string> notes;
  void Note(std::string_view m) override { notes.emplace_back(m); }
};

// The kernel store entry built once for all boot tests in this binary.
struct BuiltKernel {
  TempDir root = testing::ScratchDir("banger-kernel-boot-");
  FileKernelStore store{root.path() + "/kernels", root.path() + "/staging", CacheDir(),
                        SystemRunner()};
  Result<model::KernelRecord> record = Internal("not built");
  double seconds = 0;

  BuiltKernel() {
    specs::KernelSpec spec;
    spec.name = "debian-cloud";
    spec.source = specs::KernelSource::kDeb;
    spec.deb = "linux-image-cloud-amd64";
    CollectingProgress progress;
    auto start = Clock::now();
    record = store.Build(spec, {}, progress);
    seconds = std::chrono::duration<double>(Clock::now() - start).count();
  }
};

BuiltKernel& Kernel() {
  static BuiltKernel built;
  return built;
}

// PIDs of processes whose command line mentions `needle`.
std::vector<int> ProcessesMentioning(const std::string& needle) {
  std::vector<int> pids;
  DIR* d = opendir("/proc");
  if (!d) return pids;
  while (dirent* e = readdir(d)) {
    int pid = atoi(e->d_name);
    if (pid <= 0) continue;
    auto cmdline = ReadFile("/proc/" + std::string(e->d_name) + "/cmdline");
    if (cmdline.ok() && cmdline->find(needle) != std::string::npos) pids.push_back(pid);
  }
  closedir(d);
  return pids;
}

// Under TCG on a loaded host the guest's PIT-based TSC calibration fails
// and the 6.1 kernel then waits forever for jiffies in the delay-loop
// calibration (measured: stuck at "tsc: Marking TSC unstable" for 240 s).
// Telling it the TSC rate skips that; under TCG the guest TSC is the host's.
std::string TscEarlyKhz() {
  auto info = ReadFile("/proc/cpuinfo");
  long khz = 2000000;
  if (info.ok()) {
    size_t at = info->find("cpu MHz");
    size_t colon = at == std::string::npos ? at : info->find(':', at);
    if (colon != std::string::npos) khz = static_cast<long>(atof(info->c_str() + colon + 1) * 1000);
  }
  return "tsc_early_khz=" + std::to_string(khz > 0 ? khz : 2000000);
}

struct BootOutcome {
  std::string console;
  bool marker_seen = false;
  double marker_seconds = 0;   // QEMU start -> marker on the console
  ExecResult qemu;
};

// Builds root and work disks in `dir`, boots QEMU with `append` and waits
// (at most 90 s) for `marker` on the serial console.
BootOutcome Boot(const model::KernelRecord& k, const std::string& dir, const std::string& append,
                 const std::string& marker) {
  const std::string rootfs = dir + "/rootfs";
  DebianPackages packages(SystemRunner(), CacheDir() + "/debs");
  auto busybox = packages.StaticBusybox(dir);
  REQUIRE(busybox.ok());
  // No /root on purpose: the initramfs must create the mount point.
  for (const char* sub : {"bin", "sbin", "dev", "proc", "sys"}) {
    REQUIRE(MakeDirs(rootfs + "/" + sub).ok());
  }
  REQUIRE(AtomicWriteFile(rootfs + "/bin/busybox", *busybox, 0755).ok());
  REQUIRE(AtomicWriteFile(rootfs + "/sbin/init",
                          "#!/bin/busybox sh\n"
                          "B=/bin/busybox\n"
                          "$B mount -t proc proc /proc\n"
                          // Debian's busybox has no mountpoint applet.
                          "if $B grep -q ' /root ' /proc/mounts && [ -f /root/work-marker ]; then\n"
                          "  echo BANGER-READY\n"
                          "else\n"
                          "  echo BANGER-NOT-READY: /root is not the work disk\n"
                          "fi\n"
                          "$B poweroff -f\n",
                          0755)
              .ok());
  testing::WriteFile(dir + "/work", "work-marker", "work\n");
  REQUIRE(RunChecked({{"mkfs.ext4", "-q", "-F", "-L", "bgroot", "-d", rootfs, dir + "/root.ext4", "32M"}}).ok());
  REQUIRE(RunChecked({{"mkfs.ext4", "-q", "-F", "-L", "bgwork", "-d", dir + "/work", dir + "/work.ext4", "16M"}}).ok());

  const std::string console = dir + "/console.log";
  auto boot = BootFiles(k);
  ExecRequest qemu;
  qemu.argv = {"qemu-system-x86_64", "-M", "microvm,acpi=on,rtc=on", "-nodefaults",
               "-no-user-config", "-accel", "tcg", "-m", "512", "-smp", "1",
               "-display", "none", "-no-reboot",
               "-kernel", boot.vmlinuz, "-initrd", boot.initrd, "-append", append + " " + TscEarlyKhz(),
               "-serial", "file:" + console,
               "-drive", "id=root,file=" + dir + "/root.ext4,format=raw,if=none",
               "-device", "virtio-blk-device,drive=root",
               "-drive", "id=work,file=" + dir + "/work.ext4,format=raw,if=none",
               "-device", "virtio-blk-device,drive=work"};
  // The runner kills QEMU's process group when this expires.
  qemu.timeout = std::chrono::seconds(90);

  BootOutcome out;
  std::atomic<bool> done{false};
  Result<ExecResult> ran = Internal("not run");
  const auto start = Clock::now();
  std::thread vm([&] {
    ran = SystemRunner().Run(qemu);
    done = true;
  });
  while (Clock::now() - start < std::chrono::seconds(90)) {
    auto text = ReadFile(console);
    if (text.ok() && text->find(marker) != std::string::npos && !out.marker_seen) {
      out.marker_seen = true;
      out.marker_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    }
    if (done) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  vm.join();  // QEMU exits by itself after poweroff, or the timeout kills it
  REQUIRE(ran.ok());
  out.qemu = *ran;
  out.console = ReadFile(console).value_or("");
  if (!out.marker_seen && out.console.find(marker) != std::string::npos) {
    out.marker_seen = true;
    out.marker_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  }
  return out;
}

}  // namespace

TEST_CASE("the Debian cloud kernel package becomes a store entry with an initramfs", "[boot]") {
  BuiltKernel& k = Kernel();
  REQUIRE(k.record.ok());
  WARN("kernel build (resolve, fetch or reuse .deb, unpack, initramfs) took " << k.seconds << " s");
  const auto& r = *k.record;
  CHECK(r.version.rfind("6.", 0) == 0);
  CHECK(r.version.find("cloud-amd64") != std::string::npos);
  CHECK(k.store.Present(r));
  auto vmlinux = ReadFile(r.dir + "/vmlinux");
  REQUIRE(vmlinux.ok());
  CHECK(vmlinux->compare(0, 4, "\x7f" "ELF") == 0);

  auto members = ListArchive(r.dir + "/initrd.img", 4096);
  REQUIRE(members.ok());
  std::string order;
  std::set<std::string> paths;
  for (const auto& m : *members) {
    paths.insert(m.path);
    if (m.path == "lib/modules/load-order") order = m.data;
  }
  for (const char* mod : {"virtio", "virtio_ring", "virtio_mmio", "virtio_pci", "virtio_blk",
                          "virtio_net", "net_failover", "failover", "virtio_console", "vsock",
                          "vmw_vsock_virtio_transport", "vmw_vsock_virtio_transport_common"}) {
    INFO(mod);
    CHECK(paths.count(std::string("lib/modules/") + mod + ".ko"));
    CHECK(PathExists(r.dir + "/modules/" + mod + ".ko"));
  }
  CHECK(order.find("failover\n") < order.find("net_failover\n"));
  CHECK(order.find("net_failover\n") < order.find("virtio_net\n"));
  CHECK(order.find("vsock\n") < order.find("vmw_vsock_virtio_transport_common\n"));
  CHECK(paths.count("bin/busybox"));
  CHECK(paths.count("init"));
}

TEST_CASE("the kernel and initramfs boot a root and a work disk under QEMU", "[boot]") {
  BuiltKernel& k = Kernel();
  REQUIRE(k.record.ok());
  auto dir = testing::ScratchDir("banger-boot-");
  BootOutcome b = Boot(*k.record, dir.path(),
                       "console=ttyS0 root=/dev/vda rw banger.work=/dev/vdb", "BANGER-READY");
  INFO(b.console);
  CHECK(b.marker_seen);
  CHECK_FALSE(b.qemu.timed_out);
  CHECK(b.console.find("BANGER-INITRAMFS-ERROR") == std::string::npos);
  WARN("QEMU start -> BANGER-READY: " << b.marker_seconds << " s");
  CHECK(ProcessesMentioning(dir.path()).empty());
}

TEST_CASE("a missing root device fails clearly and powers off", "[boot]") {
  BuiltKernel& k = Kernel();
  REQUIRE(k.record.ok());
  auto dir = testing::ScratchDir("banger-boot-");
  BootOutcome b = Boot(*k.record, dir.path(), "console=ttyS0 root=/dev/vdz rw",
                       "BANGER-INITRAMFS-ERROR:");
  INFO(b.console);
  CHECK(b.marker_seen);
  CHECK_THAT(b.console, Catch::Contains("BANGER-INITRAMFS-ERROR: root device /dev/vdz did not appear"));
  CHECK_FALSE(b.qemu.timed_out);  // powered off rather than hung
  CHECK(ProcessesMentioning(dir.path()).empty());
}
