// put/get: a tar stream into or out of a guest directory.
//
// The agent runs the guest's own tar (GNU tar on distributions, busybox
// tar in small images; banger's static busybox when the image has none)
// with the stream on its stdin or stdout. Run as root, both keep owners
// (numerically: image and host need not agree on names) and modes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "guest/agent/exec_session.h"
#include "reconciler/base/error.h"

namespace banger::agent {

// The busybox banger's init kit copies into images without tools.
inline constexpr const char* kGuestBusybox = "/usr/lib/banger/busybox";

struct Transfer {
  enum class Kind { kPut, kGet };
  Kind kind = Kind::kPut;
  std::string directory;
  std::unique_ptr<ExecSession> tar;
  std::string errors;  // tar's stderr (the first KiB), for the error reply
};

// The tar argv for `kind` on `directory`: the first `tar` on kBasePath,
// else kGuestBusybox; fails (kUnavailable) with neither.
Result<std::vector<std::string>> TarArgv(Transfer::Kind kind, const std::string& directory);

// Starts a transfer. A put creates a missing directory (and its parents,
// 0755); a get needs an existing one.
Result<std::unique_ptr<Transfer>> StartTransfer(Transfer::Kind kind, const std::string& directory);

}  // namespace banger::agent
