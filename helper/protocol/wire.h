// How frames travel: one frame per SOCK_SEQPACKET message, so the kernel
// keeps the boundaries and no length prefix is needed; a frame may carry one
// file descriptor as SCM_RIGHTS ancillary data on the same message (a tap in
// a response, the console pipe in a jail_start request).
#pragma once

#include <string>
#include <string_view>

#include "reconciler/base/error.h"
#include "reconciler/os/unique_fd.h"

namespace banger::helper {

// Sends `frame` (at most kMaxFrameSize bytes) with `fd` attached when >= 0.
// Never raises SIGPIPE.
Status SendFrame(int sock, std::string_view frame, int fd = -1);

struct ReceivedFrame {
  bool eof = false;  // the peer closed the connection; nothing else is set
  std::string data;
  UniqueFd fd;       // the attached descriptor (O_CLOEXEC), if any
};

// Receives one frame. A frame larger than kMaxFrameSize, or carrying more
// than one descriptor, is an error (the extra descriptors are closed). A
// receive timeout set on the socket (SO_RCVTIMEO) reports Code::kTimeout.
Result<ReceivedFrame> ReceiveFrame(int sock);

}  // namespace banger::helper
