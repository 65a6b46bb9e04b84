// Stream connections to the unix sockets VMMs listen on (QMP, Firecracker's
// API), with deadlines on every read and write so a wedged VMM cannot hang
// the CLI.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "reconciler/base/error.h"
#include "reconciler/os/unique_fd.h"

namespace banger::vmm {

using Deadline = std::chrono::steady_clock::time_point;

// The longest socket path the kernel accepts (sun_path less the NUL).
size_t MaxUnixSocketPath();

// Connects (blocking, close-on-exec). ENOENT / ECONNREFUSED mean the server
// is not listening yet; callers polling for readiness retry on those.
Result<UniqueFd> ConnectUnixSocket(const std::string& path);

// Writes all of `data` before the deadline.
Status SendAll(int fd, std::string_view data, Deadline deadline);

// Like SendAll, with `pass_fd` attached to the first byte as SCM_RIGHTS
// (QMP's getfd and add-fd take a descriptor this way).
Status SendAllWithFd(int fd, std::string_view data, int pass_fd, Deadline deadline);

// Appends what is available (at least one byte) to `buf`; fails on EOF or
// when the deadline passes first.
Status ReceiveSome(int fd, std::string* buf, Deadline deadline);

}  // namespace banger::vmm
