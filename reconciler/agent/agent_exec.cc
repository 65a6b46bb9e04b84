#include "reconciler/agent/agent_exec.h"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <vector>

namespace banger::agentclient {
namespace {

using agent::Frame;
using agent::MsgType;
using Clock = std::chrono::steady_clock;

constexpr size_t kInputChunk = 32 * 1024;
// How long one write to the agent may take when the run has no deadline.
constexpr auto kSendTimeout = std::chrono::seconds(60);

}  // namespace

Result<int> RunExec(AgentClient& client, const ExecRun& run) {
  auto send_deadline = [&] { return run.deadline.value_or(Clock::now() + kSendTimeout); };
  const uint32_t ch = client.NewChannel();
  const std::string what = "exec " + Quote(run.request.argv.empty() ? "" : run.request.argv[0]);
  BANGER_RETURN_IF_ERROR(
      client.Send(MsgType::kExecStart, ch, agent::EncodeExecStart(run.request), send_deadline()));

  bool input_open = run.stdin_fd >= 0;
  if (!input_open) {
    for (std::string_view rest = run.stdin_data; !rest.empty(); rest.remove_prefix(
             std::min(rest.size(), kInputChunk))) {
      BANGER_RETURN_IF_ERROR(client.Send(MsgType::kStdin, ch, rest.substr(0, kInputChunk),
                                         send_deadline()));
    }
    BANGER_RETURN_IF_ERROR(client.Send(MsgType::kStdinClose, ch, "", send_deadline()));
  }

  for (;;) {
    // Frames already decoded first: poll() would not wake for them.
    BANGER_ASSIGN_OR_RETURN(std::optional<Frame> buffered, client.Buffered());
    std::optional<Frame> frame = std::move(buffered);
    if (!frame) {
      std::vector<pollfd> fds = {{client.fd(), POLLIN, 0}};
      if (input_open) fds.push_back({run.stdin_fd, POLLIN, 0});
      if (run.signal_fd >= 0) fds.push_back({run.signal_fd, POLLIN, 0});
      int timeout = -1;
      if (run.deadline) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(*run.deadline - Clock::now());
        if (left.count() <= 0) return Error(Code::kTimeout, what + ": timed out");
        timeout = static_cast<int>(left.count());
      }
      int n = poll(fds.data(), fds.size(), timeout);
      if (n < 0 && errno != EINTR) return Error::FromErrno(what + ": poll");
      if (n <= 0) continue;
      for (size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        if (fds[i].fd == run.signal_fd) {
          unsigned char signo = 0;
          if (read(run.signal_fd, &signo, 1) != 1) continue;
          if (signo == SIGWINCH) {
            winsize ws{};
            if (run.request.pty && ioctl(run.tty_fd, TIOCGWINSZ, &ws) == 0)
              BANGER_RETURN_IF_ERROR(client.Send(MsgType::kResize, ch,
                                                 agent::EncodeWindowSize({ws.ws_row, ws.ws_col}),
                                                 send_deadline()));
          } else {
            BANGER_RETURN_IF_ERROR(client.Send(MsgType::kSignal, ch,
                                               agent::EncodeU32(signo), send_deadline()));
          }
        } else {
          char buf[kInputChunk];
          ssize_t got = read(run.stdin_fd, buf, sizeof buf);
          if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
          if (got > 0) {
            BANGER_RETURN_IF_ERROR(client.Send(MsgType::kStdin, ch,
                                               std::string_view(buf, static_cast<size_t>(got)),
                                               send_deadline()));
          } else {
            // EOF (or an input that fails): the process sees the end.
            input_open = false;
            BANGER_RETURN_IF_ERROR(client.Send(MsgType::kStdinClose, ch, "", send_deadline()));
          }
        }
      }
      if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      // Reads what arrived; returns at once with a frame or after a read.
      auto f = client.Receive(Clock::now() + std::chrono::milliseconds(1));
      if (!f.ok() && f.error().code() == Code::kTimeout) continue;  // half a frame so far
      if (!f.ok()) return std::move(f).error().WithContext(what);
      frame = std::move(f).value();
    }
    if (frame->channel == 0 && frame->type == MsgType::kError) {
      BANGER_ASSIGN_OR_RETURN(std::string why, agent::DecodeString(frame->payload, "error"));
      return Error(Code::kCorruption, what + ": the guest agent refused the stream: " + why);
    }
    if (frame->channel != ch) continue;
    switch (frame->type) {
      case MsgType::kExecStarted:
        break;
      case MsgType::kStdout:
        if (run.out) run.out(frame->payload);
        break;
      case MsgType::kStderr:
        if (run.err) run.err(frame->payload);
        break;
      case MsgType::kExit: {
        BANGER_ASSIGN_OR_RETURN(agent::ExitStatus st, agent::DecodeExit(frame->payload));
        return st.signaled ? 128 + static_cast<int>(st.code) : static_cast<int>(st.code);
      }
      case MsgType::kError: {
        BANGER_ASSIGN_OR_RETURN(std::string why, agent::DecodeString(frame->payload, "error"));
        return Error(Code::kIo, what + " in the guest: " + why);
      }
      default:
        return Error(Code::kCorruption, what + ": unexpected " +
                                            std::string(agent::MsgTypeName(frame->type)) +
                                            " from the guest agent");
    }
  }
}

Status RequestPoweroff(const model::VmHandles& handles, std::chrono::milliseconds connect_timeout) {
  auto endpoint = EndpointFor(handles);
  if (!endpoint.ok()) return Error(Code::kUnavailable, endpoint.error().message());
  auto client = AgentClient::Connect(*endpoint, Clock::now() + connect_timeout);
  if (!client.ok()) return Error(Code::kUnavailable, client.error().message());
  ExecRun run;
  run.request.argv = {"/usr/lib/banger/poweroff.sh"};
  std::string err;
  run.err = [&](std::string_view d) { err.append(d.substr(0, 512)); };
  run.deadline = Clock::now() + std::chrono::seconds(10);
  auto code = RunExec(*client, run);
  // The guest may go down before the exit status makes it out.
  if (!code.ok() && code.error().code() == Code::kUnavailable) return OkStatus();
  if (!code.ok()) return code.error();
  if (*code != 0)
    return Error(Code::kIo, "poweroff.sh in the guest exited " + std::to_string(*code) + ": " + err);
  return OkStatus();
}

}  // namespace banger::agentclient
