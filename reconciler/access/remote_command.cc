#include "reconciler/access/remote_command.h"

#include <poll.h>
#include <signal.h>

#include <algorithm>
#include <cstring>

namespace banger::access {
namespace {

bool IsPlain(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '_' || c == '.' || c == '/' || c == ',' || c == ':' ||
         c == '@' || c == '%' || c == '+' || c == '=';
}

int SignalNumber(const std::string& name) {
  static const struct { const char* name; int sig; } kSignals[] = {
      {"HUP", SIGHUP}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"ILL", SIGILL},
      {"ABRT", SIGABRT}, {"FPE", SIGFPE}, {"KILL", SIGKILL}, {"SEGV", SIGSEGV},
      {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM}, {"USR1", SIGUSR1},
      {"USR2", SIGUSR2}};
  for (const auto& s : kSignals)
    if (name == s.name) return s.sig;
  return 0;
}

// Waits for the socket in the direction(s) libssh2 is blocked on.
Status WaitSocket(SshSession& s, const std::optional<std::chrono::steady_clock::time_point>& deadline) {
  int dirs = libssh2_session_block_directions(s.get());
  pollfd p{s.fd(), 0, 0};
  if (dirs & LIBSSH2_SESSION_BLOCK_INBOUND) p.events |= POLLIN;
  if (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND) p.events |= POLLOUT;
  if (p.events == 0) p.events = POLLIN;
  int ms = 1000;
  if (deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        *deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Error(Code::kTimeout, s.label() + ": command timed out");
    ms = static_cast<int>(std::min<long long>(left.count(), ms));
  }
  if (poll(&p, 1, ms) < 0 && errno != EINTR) return Error::FromErrno(s.label() + ": poll");
  return OkStatus();
}

// Restores blocking mode however RunRemote leaves, so the session stays
// usable for the next (blocking) call.
struct NonBlockingScope {
  explicit NonBlockingScope(LIBSSH2_SESSION* s) : s(s) { libssh2_session_set_blocking(s, 0); }
  ~NonBlockingScope() { libssh2_session_set_blocking(s, 1); }
  LIBSSH2_SESSION* s;
};

}  // namespace

std::string ShellQuote(std::string_view arg) {
  bool plain = !arg.empty();
  for (char c : arg) plain = plain && IsPlain(c);
  // '=' in the first word would make it an assignment, not a command, but
  // only when the part before it is a valid name; quoting every '=' word
  // keeps the rule simple.
  if (plain && arg.find('=') == std::string_view::npos) return std::string(arg);
  std::string out = "'";
  for (char c : arg) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  out += '\'';
  return out;
}

std::string RemoteCommandLine(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += ShellQuote(a);
  }
  return out;
}

std::string RemoteCommandChain(const std::vector<std::vector<std::string>>& commands) {
  std::string out;
  for (const auto& c : commands) {
    if (!out.empty()) out += " && ";
    out += RemoteCommandLine(c);
  }
  return out;
}

Result<int> RunRemote(SshSession& s, const RemoteRun& run) {
  const std::string what = "run " + Quote(run.command_line);
  ChannelPtr ch(libssh2_channel_open_session(s.get()));
  if (!ch) return s.LastError("open channel to " + what);
  if (libssh2_channel_exec(ch.get(), run.command_line.c_str()) != 0) return s.LastError(what);

  {
    NonBlockingScope nb(s.get());
    size_t sent = 0;
    bool eof_sent = false;
    char buf[32768];
    for (;;) {
      bool progressed = false;
      if (sent < run.stdin_data.size()) {
        ssize_t n = libssh2_channel_write(ch.get(), run.stdin_data.data() + sent,
                                          run.stdin_data.size() - sent);
        if (n > 0) {
          sent += static_cast<size_t>(n);
          progressed = true;
        } else if (n != LIBSSH2_ERROR_EAGAIN) {
          // A command that exits without reading its input closes the
          // channel under us; the rest of stdin is moot.
          if (!libssh2_channel_eof(ch.get())) return s.LastError("send input to " + what);
          sent = run.stdin_data.size();
        }
      } else if (!eof_sent) {
        int rc = libssh2_channel_send_eof(ch.get());
        if (rc != LIBSSH2_ERROR_EAGAIN) eof_sent = true;
      }
      bool drained = true;
      for (int stream : {0, SSH_EXTENDED_DATA_STDERR}) {
        for (;;) {
          ssize_t n = libssh2_channel_read_ex(ch.get(), stream, buf, sizeof buf);
          if (n > 0) {
            const OutputSink& sink = stream == 0 ? run.out : run.err;
            if (sink) sink(std::string_view(buf, static_cast<size_t>(n)));
            progressed = true;
            continue;
          }
          if (n == LIBSSH2_ERROR_EAGAIN) drained = false;
          else if (n < 0) return s.LastError("read output of " + what);
          break;
        }
      }
      if (drained && libssh2_channel_eof(ch.get())) break;
      if (!progressed) BANGER_RETURN_IF_ERROR(WaitSocket(s, run.deadline));
      else if (run.deadline && std::chrono::steady_clock::now() > *run.deadline)
        return Error(Code::kTimeout, s.label() + ": " + what + ": timed out");
    }
  }

  // The exit status arrives with (or just before) the close.
  if (libssh2_channel_close(ch.get()) != 0 || libssh2_channel_wait_closed(ch.get()) != 0)
    return s.LastError("close channel of " + what);
  char* signal_name = nullptr;
  libssh2_channel_get_exit_signal(ch.get(), &signal_name, nullptr, nullptr, nullptr, nullptr, nullptr);
  if (signal_name) {
    int sig = SignalNumber(signal_name);
    libssh2_free(s.get(), signal_name);
    return sig ? 128 + sig : 255;
  }
  return libssh2_channel_get_exit_status(ch.get());
}

Status RunRemoteChecked(SshSession& session, const std::string& command_line,
                        std::string_view stdin_data) {
  // The session timeout bounds each step; large input gets one more
  // second per MiB to get through.
  const auto deadline = std::chrono::steady_clock::now() + session.timeout() +
                        std::chrono::seconds(stdin_data.size() >> 20);
  std::string err;
  BANGER_ASSIGN_OR_RETURN(
      int code, RunRemote(session, {.command_line = command_line,
                                    .stdin_data = stdin_data,
                                    .out = {},
                                    .err = [&](std::string_view d) { err += d; },
                                    .deadline = deadline}));
  if (code == 0) return OkStatus();
  while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
  if (err.size() > 500) err = "..." + err.substr(err.size() - 500);
  return Error(Code::kIo, session.label() + ": " + Quote(command_line) + " exited with status " +
                              std::to_string(code) + (err.empty() ? "" : ": " + err));
}

}  // namespace banger::access
