// Readiness as the guest reports it on its console: banger's guest assets
// print "BANGER-HOSTKEY <type> <base64>" for each host key and then
// "BANGER-READY <hostname>" once sshd has started; the initramfs prints
// "BANGER-INITRAMFS-ERROR: <why>" when it cannot boot.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>

#include "reconciler/base/error.h"
#include "reconciler/runtime/vm_services.h"

namespace banger::runtime {

struct ConsoleScan {
  bool ready = false;
  std::string failure;   // text after BANGER-INITRAMFS-ERROR:, if any
  HostKeys host_keys;    // "ssh-ed25519 AAAA..."
};

// Scans console text (pure).
ConsoleScan ScanConsole(std::string_view text);

// Polls the console log until the guest is ready, it reported a boot
// failure, the VMM process died, or the deadline passed.
Result<ConsoleScan> WaitForConsoleReady(const std::string& console_log, pid_t pid,
                                        uint64_t start_ticks,
                                        std::chrono::steady_clock::time_point deadline);

}  // namespace banger::runtime
