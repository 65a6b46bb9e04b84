#include "reconciler/vmm/qemu/accel_probe.h"

#include <fcntl.h>

#include <cstring>
#include <map>
#include <mutex>

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

Result<AccelChoice> ChooseAccel(CommandRunner& runner, const std::string& qemu_binary,
                                const std::string& forced, const std::string& kernel) {
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
    // A working KVM shows the banner in well under a second; the margin is
    // for loaded hosts.
    std::string why_not = VerifyKvmBoots(runner, qemu_binary, kernel, std::chrono::seconds(8));
    choice = why_not.empty() ? AccelChoice{"kvm", false, "KVM booted this kernel"}
                             : AccelChoice{"tcg", false, "software emulation: " + why_not};
  }
  cache[key] = choice;
  return choice;
}

}  // namespace banger::vmm
