#include "reconciler/vmm/qemu/accel_probe.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cstring>
#include <map>
#include <mutex>

#include "reconciler/kernel/digest.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/unique_fd.h"

namespace banger::vmm {
namespace {

std::string FirstLine(const std::string& s) {
  std::string line = s.substr(0, s.find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

}  // namespace

std::vector<std::string> AccelArgs(const std::string& accel) {
  // Under KVM the host CPU model is what real workloads want; the default
  // qemu64 model can hang a guest early on hosts where KVM is restricted.
  if (accel == "kvm") return {"-accel", "kvm", "-cpu", "host"};
  return {"-accel", "tcg"};
}

std::string ProbeKvm(CommandRunner& runner, const std::string& qemu_binary) {
  UniqueFd kvm(open("/dev/kvm", O_RDWR | O_CLOEXEC));
  if (!kvm.valid()) return "cannot open '/dev/kvm': " + std::string(strerror(errno));
  kvm.Reset();
  ExecRequest req;
  req.argv = {qemu_binary, "-M", "microvm", "-nodefaults", "-no-user-config",
              "-display", "none", "-m", "32", "-S", "-qmp", "stdio"};
  const auto accel = AccelArgs("kvm");
  req.argv.insert(req.argv.begin() + 1, accel.begin(), accel.end());
  req.stdin_data = "{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"quit\"}\n";
  req.timeout = std::chrono::seconds(15);
  req.output_limit = 64 * 1024;
  auto result = runner.Run(req);
  if (!result.ok()) return result.error().message();
  if (result->success()) return "";
  if (result->timed_out) return "KVM probe did not finish within 15 s";
  std::string why = FirstLine(result->err.empty() ? result->out : result->err);
  if (result->term_signal) why = "qemu died with signal " + std::to_string(result->term_signal) +
                                 (why.empty() ? "" : ": " + why);
  return "KVM rejected the guest vCPU: " + why;
}

std::string VerifyKvmBoots(CommandRunner& runner, const std::string& qemu_binary,
                           const std::string& kernel, std::chrono::milliseconds timeout) {
  ExecRequest req;
  req.argv = {qemu_binary, "-M", "microvm", "-nodefaults", "-no-user-config", "-display", "none",
              "-m", "128", "-no-reboot", "-serial", "stdio", "-kernel", kernel,
              "-append", "console=ttyS0 panic=-1 root=/dev/banger-accel-probe"};
  const auto accel = AccelArgs("kvm");
  req.argv.insert(req.argv.begin() + 1, accel.begin(), accel.end());
  req.timeout = timeout;
  req.output_limit = 256 * 1024;
  auto result = runner.Run(req);
  if (!result.ok()) return result.error().message();
  if (result->out.find("Linux version") != std::string::npos) return "";
  if (result->timed_out)
    return "a kernel under KVM printed no banner within " +
           std::to_string(timeout.count() / 1000) + " s";
  std::string why = FirstLine(result->err);
  return "a kernel under KVM did not boot" + (why.empty() ? "" : ": " + why);
}

namespace {

// The cache file of a (binary, kernel) pair on this boot; "" when the
// files cannot be described.
std::string ProbeCacheFile(const std::string& dir, const std::string& binary,
                           const std::string& kernel) {
  struct stat b{}, k{};
  if (dir.empty() || stat(binary.c_str(), &b) != 0 || stat(kernel.c_str(), &k) != 0) return "";
  auto boot_id = ReadFile("/proc/sys/kernel/random/boot_id");
  if (!boot_id.ok()) return "";
  const std::string key = binary + '\n' + std::to_string(b.st_mtime) + '\n' + kernel + '\n' +
                          std::to_string(k.st_size) + '\n' + std::to_string(k.st_mtime) + '\n' +
                          *boot_id;
  return JoinPath(dir, kernel::Sha256Hex(key).substr(0, 32));
}

}  // namespace

Result<AccelChoice> ChooseAccel(CommandRunner& runner, const std::string& qemu_binary,
                                const std::string& forced, const std::string& kernel,
                                const std::string& cache_dir) {
  if (forced == "kvm" || forced == "tcg") return AccelChoice{forced, true, "BANGER_ACCEL=" + forced};
  if (!forced.empty()) {
    return InvalidArgument("BANGER_ACCEL=" + Quote(forced) + ": expected 'kvm' or 'tcg'");
  }
  static std::mutex mu;
  static std::map<std::string, AccelChoice> cache;
  std::lock_guard<std::mutex> lock(mu);
  const std::string key = qemu_binary + '\n' + kernel;
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  AccelChoice choice;
  if (auto paused = cache.find(qemu_binary + '\n'); paused != cache.end()) {
    choice = paused->second;
  } else {
    std::string why_not = ProbeKvm(runner, qemu_binary);
    choice = why_not.empty() ? AccelChoice{"kvm", false, "KVM accepted a probe guest"}
                             : AccelChoice{"tcg", false, "software emulation: " + why_not};
    cache[qemu_binary + '\n'] = choice;
  }
  if (choice.accel == "kvm" && !kernel.empty()) {
    const std::string file = ProbeCacheFile(cache_dir, qemu_binary, kernel);
    auto remembered = file.empty() ? Result<std::string>(NotFound("")) : ReadFile(file);
    if (remembered.ok() && *remembered == "kvm") {
      choice = AccelChoice{"kvm", false, "KVM booted this kernel (remembered for this boot)"};
    } else if (remembered.ok() && remembered->rfind("tcg:", 0) == 0) {
      choice = AccelChoice{"tcg", false, "software emulation: " + remembered->substr(4)};
    } else {
      // A working KVM shows the banner in well under a second; the margin
      // is for loaded hosts.
      std::string why_not = VerifyKvmBoots(runner, qemu_binary, kernel, std::chrono::seconds(8));
      choice = why_not.empty() ? AccelChoice{"kvm", false, "KVM booted this kernel"}
                               : AccelChoice{"tcg", false, "software emulation: " + why_not};
      if (!file.empty() && MakeDirs(cache_dir, 0700).ok())
        (void)AtomicWriteFile(file, why_not.empty() ? "kvm" : "tcg:" + why_not, 0600);
    }
  }
  cache[key] = choice;
  return choice;
}

}  // namespace banger::vmm
