// The engine's connection to the root helper (banger-helper).
//
// One HelperClient is one SOCK_SEQPACKET connection with one request in
// flight; it is not thread-safe, so concurrent callers (TapPool's fillers)
// each hold their own. Every method validates its request with the
// protocol's own checks before sending, waits at most `timeout` for the
// answer, and returns the helper's error (code and message) as an Error.
// After a transport failure the next call reconnects; a request is never
// resent.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "helper/protocol/protocol.h"
#include "reconciler/base/error.h"
#include "reconciler/os/unique_fd.h"

namespace banger::net {

// $BANGER_HELPER_SOCKET when set, else /run/banger/helper-<getuid()>.sock.
std::string DefaultHelperSocketPath();

struct HelperClientOptions {
  std::string socket_path;  // empty: DefaultHelperSocketPath()
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
};

// A tap and an open fd of it, for `-netdev tap,fd=N`.
struct TapHandle {
  std::string name;
  UniqueFd fd;
};

class HelperClient {
 public:
  // Connects and pings. Fails with Code::kUnavailable and the message
  // "root helper not reachable at '<path>': start it with
  // `sudo banger helper serve --owner <uid>`" when nothing listens, and with
  // Code::kFailedPrecondition when the helper speaks another protocol.
  static Result<HelperClient> Connect(HelperClientOptions options = {});

  // Called (once per process) with a message when a helper answers with a
  // build other than this one: same protocol, so it works, but a helper
  // left running from an older install is worth knowing about. Unset:
  // nothing is reported. The CLI prints it as a warning.
  static void SetBuildMismatchReporter(std::function<void(const std::string&)> report);

  HelperClient(HelperClient&&) = default;
  HelperClient& operator=(HelperClient&&) = default;

  const std::string& socket_path() const { return path_; }

  Result<helper::PingResponse> Ping();
  Status EnsureBridge(const std::string& name, const std::string& address_cidr);
  Result<TapHandle> CreateTap(const std::string& name, const std::string& bridge);
  Result<TapHandle> OpenTap(const std::string& name);
  Status AssignTap(const std::string& name, const std::string& vm);
  Status DeleteTap(const std::string& name);
  Result<std::vector<helper::TapInfo>> ListTaps();
  Status EnableNat(const std::string& guest_address, const std::string& bridge);
  Status DisableNat(const std::string& guest_address);
  // `<vm>.vm` resolves to `address` on the bridge's resolver / nowhere.
  Status SetName(const std::string& bridge, const std::string& vm, const std::string& address);
  Status RemoveName(const std::string& vm);
  // The VM's whole set of published ports, forwarded to `guest_address`
  // (empty: none); ClearPorts removes them all.
  Status SetPorts(const std::string& vm, const std::string& guest_address,
                  const std::vector<helper::PublishedPort>& ports);
  Status ClearPorts(const std::string& vm);
  // Sends `console_fd` (the jailer's stdout and stderr) with the request.
  Result<helper::JailResponse> StartJail(const helper::JailStartRequest& request,
                                         int console_fd);
  Status RemoveJail(const std::string& vm);

 private:
  HelperClient(HelperClientOptions options, std::string path)
      : options_(std::move(options)), path_(std::move(path)) {}

  Status EnsureConnected();

  // Sends one request (with `send_fd` attached when >= 0) and decodes its
  // response as R; `fd` receives the descriptor the response carries
  // (required when non-null).
  template <typename Req>
  Result<typename Req::Response> Call(const Req& request, UniqueFd* fd = nullptr,
                                      int send_fd = -1);

  HelperClientOptions options_;
  std::string path_;
  UniqueFd sock_;
};

}  // namespace banger::net
