// Readiness as the guest reports it on its console: banger's guest assets
// print "BANGER-HOSTKEY <type> <base64>" for each host key and then
// "BANGER-READY <hostname>" once sshd has started, after "BANGER-AGENT" when
// the image has banger's guest agent; the initramfs prints
// "BANGER-INITRAMFS-ERROR: <why>" when it cannot boot. On a first boot that
// installs an SSH server the guest prints "BANGER-FIRSTBOOT: ..." (the
// install may take minutes) and "BANGER-FIRSTBOOT-ERROR: <why>" on failure.
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
  std::string failure;   // why the guest cannot boot, if it said so
  bool installing = false;  // a first-boot SSH server install started
  bool agent = false;    // the guest runs banger-agent (images since it exists)
  HostKeys host_keys;    // "ssh-ed25519 AAAA..."
};

// Scans console text (pure).
ConsoleScan ScanConsole(std::string_view text);

// Polls the console log until the guest is ready, it reported a boot
// failure, the VMM process died, or the deadline passed. Once a first-boot
// install has started, the deadline moves out by `install_allowance`.
Result<ConsoleScan> WaitForConsoleReady(const std::string& console_log, pid_t pid,
                                        uint64_t start_ticks,
                                        std::chrono::steady_clock::time_point deadline,
                                        std::chrono::seconds install_allowance =
                                            std::chrono::seconds(0));

}  // namespace banger::runtime
