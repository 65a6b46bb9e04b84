#include "reconciler/access/ssh_session.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstring>
#include <mutex>
#include <set>

namespace banger::access {
namespace {

// libssh2_init is not thread-safe and sets up the crypto backend once for
// the process; it is never undone (libssh2_exit would break later sessions).
Status InitLibssh2() {
  static std::once_flag once;
  static int rc = 0;
  std::call_once(once, [] { rc = libssh2_init(0); });
  if (rc != 0) return Error(Code::kInternal, "initialize libssh2: error " + std::to_string(rc));
  return OkStatus();
}

Result<UniqueFd> ConnectTcp(const std::string& label, const std::string& ip, int port,
                            std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string port_text = std::to_string(port);
  if (int rc = getaddrinfo(ip.c_str(), port_text.c_str(), &hints, &res); rc != 0)
    return InvalidArgument(label + ": address " + Quote(ip) + ": " + gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(res, &freeaddrinfo);

  const std::string what = label + ": connect to " + ip + ":" + port_text;
  UniqueFd fd(socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Error::FromErrno(what);
  if (connect(fd.get(), res->ai_addr, res->ai_addrlen) != 0) {
    if (errno != EINPROGRESS) return Error(Code::kUnavailable, what + ": " + strerror(errno), errno);
    pollfd p{fd.get(), POLLOUT, 0};
    int n;
    do {
      n = poll(&p, 1, static_cast<int>(timeout.count()));
    } while (n < 0 && errno == EINTR);
    if (n < 0) return Error::FromErrno(what);
    if (n == 0) return Error(Code::kTimeout, what + ": timed out after " +
                                                 std::to_string(timeout.count()) + " ms");
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) return Error::FromErrno(what);
    if (err != 0) return Error(Code::kUnavailable, what + ": " + strerror(err), err);
  }
  int one = 1;
  setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// Host key algorithms to offer, limited to the types pinned: a server with
// several host keys must present one banger can check.
std::string HostKeyMethods(const std::vector<HostKey>& pinned) {
  std::string out;
  auto add = [&](const std::string& m) {
    if (out.find(m) != std::string::npos) return;
    if (!out.empty()) out += ',';
    out += m;
  };
  for (const auto& k : pinned) {
    if (k.type == "ssh-rsa") add("rsa-sha2-512,rsa-sha2-256,ssh-rsa");
    else add(k.type);
  }
  return out;
}

}  // namespace

void SessionDeleter::operator()(LIBSSH2_SESSION* s) const {
  libssh2_session_disconnect(s, "banger done");
  libssh2_session_free(s);
}

void ChannelDeleter::operator()(LIBSSH2_CHANNEL* c) const { libssh2_channel_free(c); }

SshSession::~SshSession() = default;

Error SshSession::LastError(const std::string& what, Code code) const {
  char* msg = nullptr;
  int len = 0;
  int rc = libssh2_session_last_error(session_.get(), &msg, &len, 0);
  std::string text = msg && len > 0 ? std::string(msg, static_cast<size_t>(len)) : "error " + std::to_string(rc);
  if (rc == LIBSSH2_ERROR_TIMEOUT) code = Code::kTimeout;
  return Error(code, label_ + ": " + what + ": " + text);
}

// The comma-separated `wanted` methods that libssh2 supports, in order.
static std::string SupportedOnly(LIBSSH2_SESSION* ss, const std::string& wanted) {
  const char** algs = nullptr;
  int n = libssh2_session_supported_algs(ss, LIBSSH2_METHOD_HOSTKEY, &algs);
  std::set<std::string> supported;
  for (int i = 0; i < n; ++i) supported.insert(algs[i]);
  if (algs) libssh2_free(ss, algs);
  std::string out;
  size_t start = 0;
  while (start <= wanted.size()) {
    size_t end = wanted.find(',', start);
    if (end == std::string::npos) end = wanted.size();
    std::string m = wanted.substr(start, end - start);
    if (!m.empty() && supported.count(m)) out += (out.empty() ? "" : ",") + m;
    start = end + 1;
  }
  return out;
}

Result<SshSession> SshSession::Connect(const ConnectParams& params) {
  BANGER_RETURN_IF_ERROR(InitLibssh2());
  const std::string label = "vm " + Quote(params.vm) + " (" + params.ip + ")";
  if (params.pinned.empty())
    return FailedPrecondition(label + ": no host key is pinned for it (keys are learned from "
                              "its console at first boot); refusing to connect");
  BANGER_ASSIGN_OR_RETURN(UniqueFd fd, ConnectTcp(label, params.ip, params.port, params.timeout));

  SessionPtr raw(libssh2_session_init());
  if (!raw) return Error(Code::kInternal, label + ": libssh2_session_init failed");
  SshSession s(std::move(fd), std::move(raw), label, params.timeout);
  LIBSSH2_SESSION* ss = s.get();
  libssh2_session_set_blocking(ss, 1);
  libssh2_session_set_timeout(ss, static_cast<long>(params.timeout.count()));
  // Only methods this libssh2 supports: when 1.10 drops an unsupported one
  // from a preference list it memcpy()s overlapping memory. If none is
  // left, the default list stays and the check below refuses whatever the
  // server shows.
  const std::string prefs = SupportedOnly(ss, HostKeyMethods(params.pinned));
  if (!prefs.empty()) (void)libssh2_session_method_pref(ss, LIBSSH2_METHOD_HOSTKEY, prefs.c_str());

  if (libssh2_session_handshake(ss, s.fd()) != 0) return s.LastError("ssh handshake", Code::kUnavailable);

  size_t len = 0;
  int type = 0;
  const char* key = libssh2_session_hostkey(ss, &len, &type);
  if (!key) return s.LastError("read host key", Code::kUnavailable);
  const std::string_view offered(key, len);
  bool match = false;
  for (const auto& k : params.pinned) match = match || k.blob == offered;
  if (!match) {
    return Error(Code::kPermissionDenied,
                 "host key of vm " + Quote(params.vm) + " (" + params.ip +
                     ") does not match the key pinned at its first boot; refusing to connect");
  }

  int rc = libssh2_userauth_publickey_fromfile(ss, params.user.c_str(), params.public_key_file.c_str(),
                                               params.private_key_file.c_str(), nullptr);
  if (rc == LIBSSH2_ERROR_FILE)
    return s.LastError("load banger's key " + Quote(params.private_key_file), Code::kFailedPrecondition);
  if (rc != 0) return s.LastError("log in as " + params.user + " with banger's key", Code::kUnavailable);
  return s;
}

}  // namespace banger::access
