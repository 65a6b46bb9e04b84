#include "reconciler/agent/agent_client.h"

#include <linux/vm_sockets.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <cstring>
#include <thread>

#include "reconciler/os/cancel.h"
#include "reconciler/vmm/unix_socket.h"

namespace banger::agentclient {
namespace {

using agent::Frame;
using agent::MsgType;
using Clock = std::chrono::steady_clock;

// The port the agent listens on for vsock (guest/agent/agent_server.h).
constexpr uint32_t kVsockPort = 1024;
// How long a Hello waits before it is sent again: a stream the agent is
// still reading the tail of an earlier host's frame from swallows the first.
constexpr auto kHelloRetry = std::chrono::seconds(1);

Result<UniqueFd> ConnectVsock(uint32_t cid) {
  UniqueFd fd(socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Error::FromErrno("vsock socket");
  sockaddr_vm addr{};
  addr.svm_family = AF_VSOCK;
  addr.svm_cid = cid;
  addr.svm_port = kVsockPort;
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Error(Code::kUnavailable, "connect vsock cid " + std::to_string(cid) + " port " +
                                         std::to_string(kVsockPort) + ": " + strerror(errno), errno);
  }
  return fd;
}

// Firecracker's host side of a vsock: a line-based handshake, then the
// stream. Reads byte by byte so nothing after the line is consumed.
Status FirecrackerHandshake(int fd, Deadline deadline) {
  BANGER_RETURN_IF_ERROR(vmm::SendAll(fd, "CONNECT " + std::to_string(kVsockPort) + "\n", deadline));
  std::string line;
  while (line.empty() || line.back() != '\n') {
    if (line.size() > 64) return Error(Code::kCorruption, "vsock handshake: answer too long");
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
    if (n == 1) {
      line.push_back(c);
      continue;
    }
    if (n == 0) return Error(Code::kUnavailable, "vsock handshake: closed (no agent listening yet)");
    if (errno != EAGAIN && errno != EINTR) return Error::FromErrno("vsock handshake");
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return Error(Code::kTimeout, "vsock handshake: timed out");
    pollfd p{fd, POLLIN, 0};
    poll(&p, 1, static_cast<int>(left.count()));
  }
  if (line.rfind("OK ", 0) != 0) {
    line.pop_back();
    return Error(Code::kUnavailable, "vsock handshake: " + Quote(line));
  }
  return OkStatus();
}

}  // namespace

Result<AgentEndpoint> EndpointFor(const model::VmHandles& h) {
  if (h.channel_socket.empty()) return NotFound("the vm has no guest channel");
  AgentEndpoint e;
  if (h.channel_socket.rfind("vsock:", 0) == 0) {
    e.kind = AgentEndpoint::Kind::kVsock;
    try {
      e.cid = static_cast<uint32_t>(std::stoul(h.channel_socket.substr(6)));
    } catch (const std::exception&) {
      return Error(Code::kCorruption, "guest channel " + Quote(h.channel_socket) + " names no CID");
    }
    return e;
  }
  e.kind = h.vmm == "firecracker" ? AgentEndpoint::Kind::kFirecrackerVsock
                                  : AgentEndpoint::Kind::kUnixStream;
  e.path = h.channel_socket;
  return e;
}

Result<AgentClient> AgentClient::Connect(const AgentEndpoint& endpoint, Deadline deadline) {
  UniqueFd fd;
  if (endpoint.kind == AgentEndpoint::Kind::kVsock) {
    BANGER_ASSIGN_OR_RETURN(fd, ConnectVsock(endpoint.cid));
  } else {
    auto connected = vmm::ConnectUnixSocket(endpoint.path);
    if (!connected.ok()) {
      const Error& e = connected.error();
      if (e.sys_errno() == ENOENT || e.sys_errno() == ECONNREFUSED)
        return Error(Code::kUnavailable, e.message(), e.sys_errno());
      return e;
    }
    fd = std::move(connected).value();
    if (endpoint.kind == AgentEndpoint::Kind::kFirecrackerVsock)
      BANGER_RETURN_IF_ERROR(FirecrackerHandshake(fd.get(), deadline));
  }
  AgentClient client(std::move(fd));
  BANGER_RETURN_IF_ERROR(client.Hello(deadline));
  return client;
}

Status AgentClient::Hello(Deadline deadline) {
  for (;;) {
    uint64_t nonce = 0;
    if (getrandom(&nonce, sizeof nonce, 0) != sizeof nonce) return Error::FromErrno("getrandom");
    BANGER_RETURN_IF_ERROR(Send(MsgType::kHello, 0, agent::EncodeHello({nonce}), deadline));
    const Deadline retry = std::min(deadline, Clock::now() + kHelloRetry);
    for (;;) {
      auto frame = Receive(retry);
      if (!frame.ok()) {
        if (frame.error().code() != Code::kTimeout) return frame.error();
        if (Clock::now() >= deadline)
          return Error(Code::kTimeout, "no answer from the guest agent");
        break;  // say Hello again, with a new nonce
      }
      if (frame->type != MsgType::kHelloReply) continue;  // from before this Hello
      auto reply = agent::DecodeHelloReply(frame->payload);
      if (!reply.ok()) return reply.error();
      // Only the answer to the latest Hello counts: an agent that still has
      // an earlier one to answer would reset this connection's channels.
      if (reply->nonce != nonce) continue;
      agent_version_ = reply->agent_version;
      return OkStatus();
    }
  }
}

Status AgentClient::Send(MsgType type, uint32_t channel, std::string_view payload, Deadline deadline) {
  BANGER_ASSIGN_OR_RETURN(std::string frame, agent::EncodeFrame(type, channel, payload));
  Status sent = vmm::SendAll(fd_.get(), frame, deadline);
  if (!sent.ok()) return std::move(sent).error().WithContext("send to the guest agent");
  return OkStatus();
}

Result<std::optional<Frame>> AgentClient::Buffered() { return decoder_.Next(); }

Result<Frame> AgentClient::Receive(std::optional<Deadline> deadline) {
  for (;;) {
    BANGER_ASSIGN_OR_RETURN(std::optional<Frame> frame, decoder_.Next());
    if (frame) return std::move(*frame);
    int timeout = -1;
    if (deadline) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now());
      if (left.count() <= 0) return Error(Code::kTimeout, "guest agent: timed out");
      timeout = static_cast<int>(left.count());
    }
    pollfd p{fd_.get(), POLLIN, 0};
    int n = poll(&p, 1, timeout);
    if (n < 0 && errno != EINTR) return Error::FromErrno("poll the guest agent");
    if (n <= 0) continue;
    char buf[32 * 1024];
    ssize_t got = recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (got < 0) return Error::FromErrno("read from the guest agent");
    if (got == 0) return Error(Code::kUnavailable, "the guest agent closed the connection");
    decoder_.Feed(std::string_view(buf, static_cast<size_t>(got)));
  }
}

Result<Frame> AgentClient::ReceiveReply(MsgType type, Deadline deadline) {
  for (;;) {
    BANGER_ASSIGN_OR_RETURN(Frame f, Receive(deadline));
    if (f.channel != 0) continue;
    if (f.type == MsgType::kError) {
      BANGER_ASSIGN_OR_RETURN(std::string why, agent::DecodeString(f.payload, "error"));
      return Error(Code::kIo, "guest agent: " + why);
    }
    if (f.type == type) return f;
    return Error(Code::kCorruption, "guest agent: expected " + std::string(agent::MsgTypeName(type)) +
                                        ", got " + std::string(agent::MsgTypeName(f.type)));
  }
}

Result<agent::HealthReply> AgentClient::Health(Deadline deadline) {
  BANGER_RETURN_IF_ERROR(Send(MsgType::kHealth, 0, "", deadline));
  BANGER_ASSIGN_OR_RETURN(Frame f, ReceiveReply(MsgType::kHealthReply, deadline));
  return agent::DecodeHealthReply(f.payload);
}

Result<std::vector<std::string>> AgentClient::Reidentify(const agent::Reidentify& request,
                                                         Deadline deadline) {
  BANGER_RETURN_IF_ERROR(Send(MsgType::kReidentify, 0, agent::EncodeReidentify(request), deadline));
  auto f = ReceiveReply(MsgType::kReidentifyReply, deadline);
  if (!f.ok()) {
    if (f.error().message().find("reidentify") == std::string::npos &&
        f.error().message().find("unknown") != std::string::npos)
      return Error(Code::kUnavailable,
                   "the guest's agent cannot re-identify a restored guest (" +
                       f.error().message() + "); rebuild the image to update its agent");
    return std::move(f).error();
  }
  return agent::DecodeStringList(f->payload, "reidentify_reply");
}

Result<std::vector<std::string>> AgentClient::HostKeys(Deadline deadline) {
  BANGER_RETURN_IF_ERROR(Send(MsgType::kHostKeys, 0, "", deadline));
  BANGER_ASSIGN_OR_RETURN(Frame f, ReceiveReply(MsgType::kHostKeysReply, deadline));
  return agent::DecodeStringList(f.payload, "host_keys_reply");
}

Result<agent::HealthReply> WaitForAgent(const AgentEndpoint& endpoint, Deadline deadline) {
  std::string last = "nothing tried";
  for (;;) {
    BANGER_RETURN_IF_ERROR(CheckCancelled("wait for the guest agent"));
    // Each attempt gets a few seconds: a connection QEMU has not accepted
    // yet (its previous client still on) must not eat the whole deadline.
    Deadline attempt = std::min(deadline, Clock::now() + std::chrono::seconds(5));
    auto client = AgentClient::Connect(endpoint, attempt);
    if (client.ok()) {
      auto health = client->Health(attempt);
      if (health.ok()) return health;
      last = health.error().message();
    } else {
      last = client.error().message();
      if (client.error().code() != Code::kUnavailable && client.error().code() != Code::kTimeout)
        return std::move(client).error();
    }
    if (Clock::now() + std::chrono::milliseconds(200) >= deadline)
      return Error(Code::kTimeout, "the guest agent did not answer in time; last error: " + last);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

Result<std::vector<std::string>> ReportedHostKeys(const AgentEndpoint& endpoint, Deadline deadline) {
  BANGER_ASSIGN_OR_RETURN(AgentClient client, AgentClient::Connect(endpoint, deadline));
  return client.HostKeys(deadline);
}

}  // namespace banger::agentclient
