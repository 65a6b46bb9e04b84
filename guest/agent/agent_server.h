// The agent's event loop: one thread, poll(2) over the streams to the host
// (the virtio-serial port, vsock or unix-socket connections), the pipes of
// the processes it runs, and a signalfd for SIGCHLD.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "guest/agent/connection.h"
#include "reconciler/base/error.h"

namespace banger::agent {

// The vsock port the agent listens on (Firecracker's host side connects
// with "CONNECT 1024").
inline constexpr uint32_t kAgentVsockPort = 1024;

struct ServerOptions {
  AgentOptions agent;
  std::string port_name;    // virtio-serial port to serve ("" none)
  bool vsock = true;        // listen on AF_VSOCK kAgentVsockPort when the guest has vsock
  std::string unix_socket;  // listen on this unix socket too ("" none; tests)
  std::string sys_root;     // prefix for /sys/class/virtio-ports and /dev (tests)
};

// Finds the /dev node of the virtio-serial port called `name` by its
// sysfs entry (no udev needed); "" when the guest has none.
std::string FindVirtioPort(const std::string& name, const std::string& sys_root = "");

// Serves until a fatal error (none of the transports can be opened).
Status Serve(const ServerOptions& options);

}  // namespace banger::agent
