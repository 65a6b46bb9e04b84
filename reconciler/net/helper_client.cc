#include "reconciler/net/helper_client.h"

#include <mutex>

#include "reconciler/base/version.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "helper/protocol/codec.h"
#include "helper/protocol/wire.h"

namespace banger::net {

using namespace banger::helper;

std::string DefaultHelperSocketPath() {
  if (const char* env = std::getenv("BANGER_HELPER_SOCKET"); env != nullptr && *env) {
    return env;
  }
  return DefaultSocketPath(getuid());
}

void ReportBuildMismatch(const std::string& path, const std::string& theirs);

Result<HelperClient> HelperClient::Connect(HelperClientOptions options) {
  std::string path =
      options.socket_path.empty() ? DefaultHelperSocketPath() : options.socket_path;
  HelperClient client(std::move(options), std::move(path));
  BANGER_RETURN_IF_ERROR(client.EnsureConnected());
  BANGER_ASSIGN_OR_RETURN(PingResponse ping, client.Ping());
  if (ping.protocol != kProtocolVersion) {
    return FailedPrecondition("root helper at " + Quote(client.path_) + " speaks protocol " +
                              std::to_string(ping.protocol) + ", this banger speaks " +
                              std::to_string(kProtocolVersion) + ": restart the helper");
  }
  if (ping.version != BuildString()) ReportBuildMismatch(client.path_, ping.version);
  return client;
}

namespace {
std::mutex g_mismatch_mu;
std::function<void(const std::string&)> g_mismatch_report;
bool g_mismatch_reported = false;
}  // namespace

void HelperClient::SetBuildMismatchReporter(std::function<void(const std::string&)> report) {
  std::lock_guard<std::mutex> lock(g_mismatch_mu);
  g_mismatch_report = std::move(report);
}

void ReportBuildMismatch(const std::string& path, const std::string& theirs) {
  std::lock_guard<std::mutex> lock(g_mismatch_mu);
  if (!g_mismatch_report || g_mismatch_reported) return;
  g_mismatch_reported = true;
  g_mismatch_report("root helper at " + Quote(path) + " is build " + theirs + ", this banger is " +
                    BuildString() + "; restart the helper to run this build");
}

Status HelperClient::EnsureConnected() {
  if (sock_.valid()) return OkStatus();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.size() >= sizeof addr.sun_path) {
    return InvalidArgument("helper socket path " + Quote(path_) + " is too long");
  }
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  UniqueFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Error::FromErrno("helper socket");
  auto ms = options_.timeout.count();
  timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    if (err == ENOENT || err == ECONNREFUSED) {
      return Error(Code::kUnavailable,
                   "root helper not reachable at " + Quote(path_) +
                       ": start it with `sudo banger helper serve --owner " +
                       std::to_string(getuid()) + "`",
                   err);
    }
    return Error::FromErrno("connect to root helper at " + Quote(path_), err);
  }
  sock_ = std::move(fd);
  return OkStatus();
}

template <typename Req>
Result<typename Req::Response> HelperClient::Call(const Req& request, UniqueFd* fd,
                                                  int send_fd) {
  using Response = typename Req::Response;
  BANGER_RETURN_IF_ERROR(ValidateRequest(Request(request)));
  BANGER_RETURN_IF_ERROR(EnsureConnected());
  std::string what = std::string("root helper ") + Req::kOp;
  auto sent = SendFrame(sock_.get(), EncodeRequest(Request(request)), send_fd);
  int send_errno = sent.ok() ? 0 : sent.error().sys_errno();
  if (!sent.ok() && send_errno != EPIPE && send_errno != ECONNRESET) {
    sock_.Reset();
    return sent.error().WithContext(what);
  }
  // A helper that refused this peer has sent its reason and closed; the
  // reason is still queued, so it is read even when the send failed.
  auto received = ReceiveFrame(sock_.get());
  // A peer that closes with our request unread leaves ECONNRESET pending,
  // and the kernel reports it before the frame queued ahead of the close;
  // the next read returns that frame (or end of stream) without blocking.
  if (!received.ok() && received.error().sys_errno() == ECONNRESET) {
    received = ReceiveFrame(sock_.get());
  }
  if (!sent.ok() || !received.ok() || received->eof) sock_.Reset();
  if (!received.ok()) return received.error().WithContext(what);
  if (received->eof) {
    if (!sent.ok()) return sent.error().WithContext(what);
    return Error(Code::kUnavailable, what + ": the helper closed the connection");
  }
  auto response = DecodeResponse<Response>(received->data);
  if (!response.ok()) {
    // Corrupt frames mean the stream cannot be trusted for the next call.
    if (response.error().code() == Code::kCorruption) sock_.Reset();
    return std::move(response).error();
  }
  if (fd != nullptr) {
    if (!received->fd.valid()) {
      return Error(Code::kCorruption, what + ": the response carries no descriptor");
    }
    *fd = std::move(received->fd);
  }
  return response;
}

Result<PingResponse> HelperClient::Ping() { return Call(PingRequest{}); }

Status HelperClient::EnsureBridge(const std::string& name, const std::string& address_cidr) {
  BANGER_RETURN_IF_ERROR(Call(EnsureBridgeRequest{name, address_cidr}));
  return OkStatus();
}

Result<TapHandle> HelperClient::CreateTap(const std::string& name, const std::string& bridge) {
  TapHandle tap;
  BANGER_ASSIGN_OR_RETURN(TapResponse r, Call(CreateTapRequest{name, bridge}, &tap.fd));
  tap.name = r.name;
  return tap;
}

Result<TapHandle> HelperClient::OpenTap(const std::string& name) {
  TapHandle tap;
  BANGER_ASSIGN_OR_RETURN(TapResponse r, Call(OpenTapRequest{name}, &tap.fd));
  tap.name = r.name;
  return tap;
}

Status HelperClient::AssignTap(const std::string& name, const std::string& vm) {
  BANGER_RETURN_IF_ERROR(Call(AssignTapRequest{name, vm}));
  return OkStatus();
}

Status HelperClient::DeleteTap(const std::string& name) {
  BANGER_RETURN_IF_ERROR(Call(DeleteTapRequest{name}));
  return OkStatus();
}

Result<std::vector<TapInfo>> HelperClient::ListTaps() {
  BANGER_ASSIGN_OR_RETURN(ListTapsResponse r, Call(ListTapsRequest{}));
  return std::move(r.taps);
}

Status HelperClient::EnableNat(const std::string& guest_address, const std::string& bridge) {
  BANGER_RETURN_IF_ERROR(Call(NatEnableRequest{guest_address, bridge}));
  return OkStatus();
}

Status HelperClient::SetName(const std::string& bridge, const std::string& vm,
                             const std::string& address) {
  BANGER_RETURN_IF_ERROR(Call(NameSetRequest{bridge, vm, address}));
  return OkStatus();
}

Status HelperClient::RemoveName(const std::string& vm) {
  BANGER_RETURN_IF_ERROR(Call(NameRemoveRequest{vm}));
  return OkStatus();
}

Status HelperClient::SetPorts(const std::string& vm, const std::string& guest_address,
                              const std::vector<PublishedPort>& ports) {
  BANGER_RETURN_IF_ERROR(Call(PortsSetRequest{vm, guest_address, ports}));
  return OkStatus();
}

Status HelperClient::ClearPorts(const std::string& vm) {
  BANGER_RETURN_IF_ERROR(Call(PortsClearRequest{vm}));
  return OkStatus();
}

Status HelperClient::DisableNat(const std::string& guest_address) {
  BANGER_RETURN_IF_ERROR(Call(NatDisableRequest{guest_address}));
  return OkStatus();
}

Result<JailResponse> HelperClient::StartJail(const JailStartRequest& request, int console_fd) {
  return Call(request, nullptr, console_fd);
}

Status HelperClient::RemoveJail(const std::string& vm) {
  BANGER_RETURN_IF_ERROR(Call(JailRemoveRequest{vm}));
  return OkStatus();
}

}  // namespace banger::net
