#include "reconciler/runtime/console_ready.h"

#include <thread>

#include "reconciler/os/cancel.h"
#include "reconciler/os/fs.h"
#include "reconciler/vmm/driver.h"

namespace banger::runtime {
namespace {

std::string Tail(const std::string& s, size_t n) {
  return s.size() > n ? s.substr(s.size() - n) : s;
}

std::string Trimmed(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return std::string(s);
}

}  // namespace

ConsoleScan ScanConsole(std::string_view text) {
  ConsoleScan scan;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    // The marker may follow kernel output on the same line.
    if (size_t k = line.find("BANGER-HOSTKEY "); k != std::string_view::npos) {
      std::string key(line.substr(k + 15));
      if (key.find(' ') != std::string::npos) scan.host_keys.push_back(key);
    } else if (line.find("BANGER-AGENT") != std::string_view::npos) {
      scan.agent = true;
    } else if (line.find("BANGER-READY") != std::string_view::npos) {
      scan.ready = true;
    } else if (size_t e = line.find("BANGER-INITRAMFS-ERROR:"); e != std::string_view::npos) {
      scan.failure = Trimmed(line.substr(e + 23));
    } else if (size_t f = line.find("BANGER-FIRSTBOOT-ERROR:"); f != std::string_view::npos) {
      if (scan.failure.empty()) scan.failure = "first boot: " + Trimmed(line.substr(f + 23));
    } else if (line.find("BANGER-FIRSTBOOT:") != std::string_view::npos) {
      scan.installing = true;
    }
  }
  return scan;
}

Result<ConsoleScan> WaitForConsoleReady(const std::string& console_log, pid_t pid,
                                        uint64_t start_ticks,
                                        std::chrono::steady_clock::time_point deadline,
                                        std::chrono::seconds install_allowance) {
  bool extended = false;
  for (;;) {
    auto text = ReadFile(console_log);
    const std::string content = text.ok() ? *text : "";
    ConsoleScan scan = ScanConsole(content);
    if (!scan.failure.empty())
      return Error(Code::kFailedPrecondition, "guest could not boot: " + scan.failure);
    if (scan.ready) return scan;
    if (scan.installing && !extended) {
      deadline += install_allowance;
      extended = true;
    }
    if (!ProcessAlive(pid, start_ticks)) {
      return Error(Code::kFailedPrecondition,
                   "VMM exited before the guest was ready; console ends with: " +
                       Tail(content, 800));
    }
    BANGER_RETURN_IF_ERROR(CheckCancelled("wait for the guest's console"));
    if (std::chrono::steady_clock::now() >= deadline) {
      return Error(Code::kTimeout, "guest not ready in time (no BANGER-READY on the console " +
                                       Quote(console_log) + "); console ends with: " +
                                       Tail(content, 800));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace banger::runtime
