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

Result<AccelChoice> ChooseAccel(CommandRunner& runner, const std::string& qemu_binary,
                                const std::string& forced) {
  if (forced == "kvm" || forced == "tcg") return AccelChoice{forced, true, "BANGER_ACCEL=" + forced};
  if (!forced.empty()) {
    return InvalidArgument("BANGER_ACCEL=" + Quote(forced) + ": expected 'kvm' or 'tcg'");
  }
  static std::mutex mu;
  static std::map<std::string, AccelChoice> cache;
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = cache.find(qemu_binary); it != cache.end()) return it->second;
  std::string why_not = ProbeKvm(runner, qemu_binary);
  AccelChoice choice = why_not.empty()
                           ? AccelChoice{"kvm", false, "KVM accepted a probe guest"}
                           : AccelChoice{"tcg", false, "software emulation: " + why_not};
  cache[qemu_binary] = choice;
  return choice;
}

}  // namespace banger::vmm
