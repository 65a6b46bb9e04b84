// One byte stream between the host and the agent, and the channels (exec
// sessions, put/get transfers) the host started on it.
//
// A stream starts with the host's Hello; anything else first is a protocol
// error. A Hello on a stream already in use starts over: the channels of
// the previous host are dropped (their processes killed). A decoding error
// is answered with an Error frame on channel 0; then a socket connection is
// closed, and a port skips input until the next Hello.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "guest/agent/exec_session.h"
#include "guest/agent/protocol/frame.h"
#include "guest/agent/transfer.h"
#include "reconciler/os/unique_fd.h"

namespace banger::agent {

// A descriptor the event loop polls for someone, and what to do then.
struct Watch {
  int fd;
  short events;
  std::function<void(short revents)> handler;
};

struct AgentOptions {
  std::string version;      // reported in HelloReply
  std::string guest_root;   // prefix for /proc and /etc reads (tests)
};

class Connection {
 public:
  // `port`: a virtio-serial port, which may hold the tail of an earlier
  // host's stream (skipped up to the next Hello).
  Connection(UniqueFd fd, bool port, const AgentOptions& options);
  ~Connection();

  int fd() const { return fd_.get(); }
  bool port() const { return port_; }
  // At EOF (for a port: its host side is not connected) or after a
  // failure; the loop removes it (and opens a port again).
  bool closed() const { return closed_; }

  // The stream and every channel's descriptors, for the event loop.
  void AddWatches(std::vector<Watch>& watches);

  // The agent reaped `pid`; returns whether it was one of this stream's.
  bool OnChildExit(pid_t pid, int wait_status);

 private:
  void OnStream(short revents);
  void ReadStream();
  void WriteStream();
  void HandleFrame(const Frame& frame);
  void HandleChannelFrame(const Frame& frame);
  void StartExec(uint32_t channel, const std::string& payload);
  void OnExecOutput(uint32_t channel, int fd, MsgType type);
  void FinishIfDone(uint32_t channel);
  // fd: an output descriptor of the channel's tar that is readable, or -1.
  void OnTransfer(uint32_t channel, int fd);
  // Drops every channel (killing their processes) and queued output.
  void DropChannels();
  void ProtocolError(const Error& error);
  void Send(MsgType type, uint32_t channel, std::string_view payload);
  void SendError(uint32_t channel, const Error& error);

  UniqueFd fd_;
  bool port_;
  AgentOptions options_;
  bool closed_ = false;
  bool greeted_ = false;
  FrameDecoder decoder_;
  std::string out_;
  std::map<uint32_t, std::unique_ptr<ExecSession>> execs_;
  std::map<uint32_t, std::unique_ptr<Transfer>> transfers_;
};

}  // namespace banger::agent
