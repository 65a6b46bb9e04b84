#include "guest/agent/connection.h"

#include <poll.h>
#include <unistd.h>

#include "guest/agent/guest_info.h"
#include "guest/agent/reidentify.h"
#include "guest/agent/protocol/messages.h"

namespace banger::agent {
namespace {

// Process output is read only while less than this waits to go out, so a
// host that reads slowly slows the process down instead of the agent
// buffering without bound.
constexpr size_t kOutputHighWater = 1 << 20;
constexpr size_t kReadChunk = 32 * 1024;
constexpr size_t kMaxTarErrors = 1024;

}  // namespace

Connection::Connection(UniqueFd fd, bool port, const AgentOptions& options)
    : fd_(std::move(fd)), port_(port), options_(options) {
  // A port may hold the tail of an earlier host's stream.
  if (port_) decoder_.Resync();
}

Connection::~Connection() = default;

void Connection::AddWatches(std::vector<Watch>& watches) {
  if (closed_) return;
  short events = POLLIN;
  if (!out_.empty()) events |= POLLOUT;
  watches.push_back({fd_.get(), events, [this](short r) { OnStream(r); }});
  // Handlers look their channel up again when called: an earlier handler
  // in the same round may have ended it.
  const bool room = out_.size() < kOutputHighWater;
  for (auto& [channel, s] : execs_) {
    const uint32_t ch = channel;
    int out = s->stdout_fd(), err = s->stderr_fd(), in = s->stdin_fd_to_poll();
    if (room && out >= 0)
      watches.push_back({out, POLLIN, [this, ch, out](short) { OnExecOutput(ch, out, MsgType::kStdout); }});
    if (room && err >= 0)
      watches.push_back({err, POLLIN, [this, ch, err](short) { OnExecOutput(ch, err, MsgType::kStderr); }});
    if (in >= 0)
      watches.push_back({in, POLLOUT, [this, ch, in](short) {
                           auto it = execs_.find(ch);
                           if (it != execs_.end() && it->second->stdin_fd_to_poll() == in)
                             it->second->WriteStdin();
                         }});
  }
  for (auto& [channel, t] : transfers_) {
    const uint32_t ch = channel;
    int out = t->tar->stdout_fd(), err = t->tar->stderr_fd(), in = t->tar->stdin_fd_to_poll();
    if (room && out >= 0) watches.push_back({out, POLLIN, [this, ch, out](short) { OnTransfer(ch, out); }});
    if (err >= 0) watches.push_back({err, POLLIN, [this, ch, err](short) { OnTransfer(ch, err); }});
    if (in >= 0)
      watches.push_back({in, POLLOUT, [this, ch, in](short) {
                           auto it = transfers_.find(ch);
                           if (it != transfers_.end() && it->second->tar->stdin_fd_to_poll() == in)
                             it->second->tar->WriteStdin();
                         }});
  }
}

void Connection::OnStream(short revents) {
  if (revents & POLLOUT) WriteStream();
  if (revents & (POLLIN | POLLHUP | POLLERR)) ReadStream();
}

void Connection::ReadStream() {
  char buf[kReadChunk];
  ssize_t n = read(fd_.get(), buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) return;
  if (n <= 0) {
    // A port reads EOF while its host side is not connected: whatever that
    // host started ends with it. The loop opens the port again for the
    // next host (see agent_server.cc).
    DropChannels();
    closed_ = true;
    return;
  }
  decoder_.Feed(std::string_view(buf, static_cast<size_t>(n)));
  for (;;) {
    auto frame = decoder_.Next();
    if (!frame.ok()) {
      ProtocolError(frame.error());
      return;
    }
    if (!frame->has_value()) return;
    HandleFrame(**frame);
    if (closed_) return;
  }
}

void Connection::WriteStream() {
  while (!out_.empty()) {
    ssize_t n = write(fd_.get(), out_.data(), out_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n < 0) {
      DropChannels();
      closed_ = true;
      return;
    }
    out_.erase(0, static_cast<size_t>(n));
  }
}

void Connection::Send(MsgType type, uint32_t channel, std::string_view payload) {
  // Payloads are built under kMaxPayload (output is read in smaller
  // chunks), so encoding cannot fail here.
  auto frame = EncodeFrame(type, channel, payload);
  if (frame.ok()) out_ += *frame;
}

void Connection::SendError(uint32_t channel, const Error& error) {
  std::string message = error.message().substr(0, kMaxPayload - 64);
  Send(MsgType::kError, channel, EncodeString(message));
}

void Connection::ProtocolError(const Error& error) {
  DropChannels();
  SendError(0, error);
  greeted_ = false;
  if (port_) {
    decoder_.Resync();
  } else {
    WriteStream();  // best effort: the host learns why before the close
    closed_ = true;
  }
}

void Connection::DropChannels() {
  execs_.clear();
  transfers_.clear();
  out_.clear();
}

void Connection::HandleFrame(const Frame& f) {
  if (f.type == MsgType::kHello) {
    auto hello = DecodeHello(f.payload);
    if (!hello.ok() || f.channel != 0) {
      ProtocolError(hello.ok() ? Error(Code::kCorruption, "agent hello: not on channel 0")
                               : hello.error());
      return;
    }
    DropChannels();
    greeted_ = true;
    Send(MsgType::kHelloReply, 0, EncodeHelloReply({hello->nonce, options_.version}));
    return;
  }
  if (!greeted_) {
    ProtocolError(Error(Code::kCorruption, "agent: " + std::string(MsgTypeName(f.type)) +
                                               " before hello"));
    return;
  }
  if (f.channel != 0) {
    HandleChannelFrame(f);
    return;
  }
  if (f.type == MsgType::kHealth) {
    Status empty = ExpectEmpty(f.payload, "health");
    if (!empty.ok()) return ProtocolError(empty.error());
    auto health = ReadHealth(options_.guest_root);
    if (!health.ok()) return SendError(0, health.error());
    Send(MsgType::kHealthReply, 0, EncodeHealthReply(*health));
  } else if (f.type == MsgType::kHostKeys) {
    Status empty = ExpectEmpty(f.payload, "host_keys");
    if (!empty.ok()) return ProtocolError(empty.error());
    auto keys = ReadHostKeys(options_.guest_root);
    if (!keys.ok()) return SendError(0, keys.error());
    Send(MsgType::kHostKeysReply, 0, EncodeStringList(*keys));
  } else if (f.type == MsgType::kReidentify) {
    auto request = DecodeReidentify(f.payload);
    if (!request.ok()) return ProtocolError(request.error());
    // Runs to completion here (a few seconds at most): the host sends it
    // alone, right after a restore, before anything else runs.
    auto keys = ReidentifyGuest(*request, options_.guest_root);
    if (!keys.ok()) return SendError(0, keys.error());
    Send(MsgType::kReidentifyReply, 0, EncodeStringList(*keys));
  } else {
    ProtocolError(Error(Code::kCorruption, "agent: " + std::string(MsgTypeName(f.type)) +
                                               " is not a request on channel 0"));
  }
}

void Connection::HandleChannelFrame(const Frame& f) {
  const uint32_t ch = f.channel;
  const bool in_use = execs_.count(ch) != 0 || transfers_.count(ch) != 0;
  switch (f.type) {
    case MsgType::kExecStart:
    case MsgType::kPutStart:
    case MsgType::kGetStart: {
      if (in_use) {
        return ProtocolError(Error(Code::kCorruption,
                                   "agent: channel " + std::to_string(ch) + " is already in use"));
      }
      if (f.type == MsgType::kExecStart) return StartExec(ch, f.payload);
      auto dir = DecodeDirectory(f.payload);
      if (!dir.ok()) return ProtocolError(dir.error());
      auto kind = f.type == MsgType::kPutStart ? Transfer::Kind::kPut : Transfer::Kind::kGet;
      auto t = StartTransfer(kind, *dir);
      if (!t.ok()) return SendError(ch, t.error());
      transfers_[ch] = std::move(t).value();
      return;
    }
    case MsgType::kStdin:
    case MsgType::kData: {
      // Data for a channel that just ended is a race, not an error.
      if (auto it = execs_.find(ch); it != execs_.end() && f.type == MsgType::kStdin) {
        it->second->QueueStdin(f.payload);
      } else if (auto t = transfers_.find(ch); t != transfers_.end() && f.type == MsgType::kData) {
        if (t->second->kind == Transfer::Kind::kPut) t->second->tar->QueueStdin(f.payload);
      }
      return;
    }
    case MsgType::kStdinClose:
    case MsgType::kDataEnd: {
      Status empty = ExpectEmpty(f.payload, MsgTypeName(f.type));
      if (!empty.ok()) return ProtocolError(empty.error());
      if (auto it = execs_.find(ch); it != execs_.end() && f.type == MsgType::kStdinClose) {
        it->second->CloseStdin();
      } else if (auto t = transfers_.find(ch); t != transfers_.end() && f.type == MsgType::kDataEnd) {
        t->second->tar->CloseStdin();
      }
      return;
    }
    case MsgType::kSignal: {
      auto sig = DecodeU32(f.payload, "signal");
      if (!sig.ok()) return ProtocolError(sig.error());
      if (*sig == 0 || *sig > 64) {
        return ProtocolError(Error(Code::kCorruption,
                                   "agent signal: " + std::to_string(*sig) + " is not a signal"));
      }
      if (auto it = execs_.find(ch); it != execs_.end()) {
        Status st = it->second->Signal(static_cast<int>(*sig));
        if (!st.ok()) SendError(ch, st.error());
      }
      return;
    }
    case MsgType::kResize: {
      auto ws = DecodeWindowSize(f.payload);
      if (!ws.ok()) return ProtocolError(ws.error());
      if (auto it = execs_.find(ch); it != execs_.end()) {
        Status st = it->second->Resize(ws->rows, ws->cols);
        if (!st.ok()) SendError(ch, st.error());
      }
      return;
    }
    default:
      return ProtocolError(Error(Code::kCorruption, "agent: " + std::string(MsgTypeName(f.type)) +
                                                        " is not a request on a channel"));
  }
}

void Connection::StartExec(uint32_t ch, const std::string& payload) {
  auto request = DecodeExecStart(payload);
  if (!request.ok()) return ProtocolError(request.error());
  auto session = ExecSession::Start(*request);
  if (!session.ok()) return SendError(ch, session.error());
  Send(MsgType::kExecStarted, ch, EncodeU32(static_cast<uint32_t>((*session)->pid())));
  execs_[ch] = std::move(session).value();
}

void Connection::OnExecOutput(uint32_t ch, int fd, MsgType type) {
  auto it = execs_.find(ch);
  if (it == execs_.end()) return;
  if (fd != it->second->stdout_fd() && fd != it->second->stderr_fd()) return;
  auto data = it->second->ReadOutput(fd, kReadChunk);
  if (data.ok() && !data->empty()) Send(type, ch, *data);
  FinishIfDone(ch);
}

bool Connection::OnChildExit(pid_t pid, int wait_status) {
  for (auto& [ch, s] : execs_) {
    if (s->pid() != pid) continue;
    s->SetExited(wait_status);
    FinishIfDone(ch);
    return true;
  }
  for (auto& [ch, t] : transfers_) {
    if (t->tar->pid() != pid) continue;
    t->tar->SetExited(wait_status);
    OnTransfer(ch, -1);
    return true;
  }
  return false;
}

void Connection::FinishIfDone(uint32_t ch) {
  auto it = execs_.find(ch);
  if (it == execs_.end() || !it->second->finished()) return;
  Send(MsgType::kExit, ch, EncodeExit(it->second->exit_status()));
  execs_.erase(it);
}

void Connection::OnTransfer(uint32_t ch, int fd) {
  auto it = transfers_.find(ch);
  if (it == transfers_.end()) return;
  Transfer& t = *it->second;
  if (fd >= 0 && (fd == t.tar->stdout_fd() || fd == t.tar->stderr_fd())) {
    const bool is_stderr = fd == t.tar->stderr_fd();
    auto data = t.tar->ReadOutput(fd, kReadChunk);
    if (data.ok() && !data->empty()) {
      if (is_stderr) {
        t.errors += data->substr(0, kMaxTarErrors - std::min(kMaxTarErrors, t.errors.size()));
      } else if (t.kind == Transfer::Kind::kGet) {
        Send(MsgType::kData, ch, *data);
      }
    }
  }
  if (!t.tar->finished()) return;
  ExitStatus status = t.tar->exit_status();
  if (status.signaled || status.code != 0) {
    std::string why = t.errors;
    while (!why.empty() && why.back() == '\n') why.pop_back();
    if (why.empty()) why = status.signaled ? "killed by signal " + std::to_string(status.code)
                                           : "exit status " + std::to_string(status.code);
    SendError(ch, Error(Code::kIo, std::string(t.kind == Transfer::Kind::kPut ? "put into " : "get from ") +
                                       Quote(t.directory) + ": tar failed: " + why));
  } else {
    Send(t.kind == Transfer::Kind::kPut ? MsgType::kDone : MsgType::kDataEnd, ch, "");
  }
  transfers_.erase(it);
}

}  // namespace banger::agent
