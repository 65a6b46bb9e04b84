// banger-agent: the guest side of banger's host<->guest channel. Started by
// the guest's init (banger-agent.service, or banger's busybox inittab); see
// docs/ARCHITECTURE.md "Guest agent" for the protocol.
//
//   banger-agent [--port NAME] [--no-vsock] [--unix PATH] [--sys-root DIR]
//
// Messages go to stderr (the journal or the console). The agent never
// exits on a protocol error, only when it cannot serve at all or on
// SIGTERM/SIGINT (killing the processes it runs first).
#include <cstdio>
#include <cstring>
#include <string>

#include "guest/agent/agent_server.h"
#include "reconciler/base/version.h"

namespace {

int Usage(const char* why) {
  std::fprintf(stderr,
               "banger-agent: %s\n"
               "usage: banger-agent [--port NAME] [--no-vsock] [--unix PATH] [--sys-root DIR]\n",
               why);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  banger::agent::ServerOptions options;
  options.port_name = "org.banger.agent";
  options.agent.version = banger::BuildString();
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    if (arg == "--port") {
      if (!value(options.port_name)) return Usage("--port needs a name");
    } else if (arg == "--no-vsock") {
      options.vsock = false;
    } else if (arg == "--unix") {
      if (!value(options.unix_socket)) return Usage("--unix needs a path");
    } else if (arg == "--sys-root") {
      if (!value(options.sys_root)) return Usage("--sys-root needs a directory");
    } else if (arg == "--guest-root") {
      if (!value(options.agent.guest_root)) return Usage("--guest-root needs a directory");
    } else if (arg == "--version") {
      std::printf("banger-agent %s\n", options.agent.version.c_str());
      return 0;
    } else {
      return Usage(("unknown argument '" + arg + "'").c_str());
    }
  }
  banger::Status st = banger::agent::Serve(options);
  if (st.ok()) return 0;  // asked to stop
  std::fprintf(stderr, "banger-agent: %s\n", st.error().message().c_str());
  return 1;
}
