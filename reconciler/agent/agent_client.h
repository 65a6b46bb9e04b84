// The host side of the guest agent (guest/agent): one connection to one
// VM's agent, over whichever channel the VMM gives the VM.
//
//   QEMU without vhost-vsock  the virtio-serial port's chardev, a unix
//                             socket QEMU serves (one host client at a
//                             time; a second one waits for the first)
//   QEMU with vhost-vsock     AF_VSOCK to the VM's CID, port 1024
//   Firecracker               its hybrid vsock: the unix socket, then
//                             "CONNECT 1024\n" and its "OK <port>\n"
//
// Every connection starts with Hello and waits for the reply carrying the
// same nonce; frames from before (a stream the agent has not reset yet) are
// skipped. The protocol is in guest/agent/protocol and docs/ARCHITECTURE.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "guest/agent/protocol/frame.h"
#include "guest/agent/protocol/messages.h"
#include "reconciler/base/error.h"
#include "reconciler/model/handles.h"
#include "reconciler/os/unique_fd.h"

namespace banger::agentclient {

using Deadline = std::chrono::steady_clock::time_point;

struct AgentEndpoint {
  enum class Kind { kUnixStream, kFirecrackerVsock, kVsock };
  Kind kind = Kind::kUnixStream;
  std::string path;  // unix socket (kUnixStream, kFirecrackerVsock)
  uint32_t cid = 0;  // kVsock
};

// The endpoint of a running VM's agent, from its handles; kNotFound when
// the VM was started without a channel.
Result<AgentEndpoint> EndpointFor(const model::VmHandles& handles);

class AgentClient {
 public:
  // Connects and says Hello; fails with kUnavailable when nothing listens
  // and kTimeout when no agent answers before the deadline.
  static Result<AgentClient> Connect(const AgentEndpoint& endpoint, Deadline deadline);

  AgentClient(AgentClient&&) = default;
  AgentClient& operator=(AgentClient&&) = default;

  const std::string& agent_version() const { return agent_version_; }

  Result<agent::HealthReply> Health(Deadline deadline);
  // "type base64" lines of the guest's SSH host keys.
  Result<std::vector<std::string>> HostKeys(Deadline deadline);
  // Re-identifies a guest just restored from a snapshot (new hostname,
  // MAC, address, host keys; see guest/agent/reidentify.h) and returns its
  // new host keys. An agent from before this request answers with an
  // error, reported as kUnavailable.
  Result<std::vector<std::string>> Reidentify(const agent::Reidentify& request,
                                              Deadline deadline);

  // A fresh channel number for an exec, put or get.
  uint32_t NewChannel() { return next_channel_++; }

  Status Send(agent::MsgType type, uint32_t channel, std::string_view payload,
              Deadline deadline);
  // The next frame; kTimeout at the deadline; kUnavailable when the agent
  // side closed. std::nullopt deadline: wait as long as it takes.
  Result<agent::Frame> Receive(std::optional<Deadline> deadline);
  // A frame already decoded, if any, without reading the socket.
  Result<std::optional<agent::Frame>> Buffered();

  int fd() const { return fd_.get(); }

 private:
  explicit AgentClient(UniqueFd fd) : fd_(std::move(fd)) {}
  Status Hello(Deadline deadline);
  // A reply of `type` on channel 0; an Error frame there is the agent's
  // answer to the request.
  Result<agent::Frame> ReceiveReply(agent::MsgType type, Deadline deadline);

  UniqueFd fd_;
  agent::FrameDecoder decoder_;
  std::string agent_version_;
  uint32_t next_channel_ = 1;
};

// Connects, retrying while the VM's channel or agent is not up yet, until
// the agent answers Health or the deadline passes (kTimeout naming the
// last failure).
Result<agent::HealthReply> WaitForAgent(const AgentEndpoint& endpoint, Deadline deadline);

// Connects and asks for the guest's SSH host keys ("type base64" lines).
Result<std::vector<std::string>> ReportedHostKeys(const AgentEndpoint& endpoint, Deadline deadline);

}  // namespace banger::agentclient
