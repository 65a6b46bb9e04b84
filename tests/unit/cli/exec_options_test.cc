// `vm exec` options: the transport choice, checks made before anything
// connects, and the argv that gives SSH the agent's env and cwd.
#include <catch2/catch.hpp>

#include "reconciler/cli/agent_exec_flow.h"

namespace banger::cli {
namespace {

TEST_CASE("--via takes auto, agent or ssh") {
  CHECK(*ParseExecVia("auto") == ExecVia::kAuto);
  CHECK(*ParseExecVia("agent") == ExecVia::kAgent);
  CHECK(*ParseExecVia("ssh") == ExecVia::kSsh);
  auto bad = ParseExecVia("vsock");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message() == "--via 'vsock': expected auto, agent or ssh");
}

TEST_CASE("exec options are checked before connecting") {
  ExecOptions o;
  CHECK(ValidateExecOptions(o, ExecVia::kAuto).error().message() == "vm exec: no command given");
  o.argv = {"true"};
  CHECK(ValidateExecOptions(o, ExecVia::kAuto).ok());
  o.env = {"=x"};
  CHECK(ValidateExecOptions(o, ExecVia::kAuto).error().message() ==
        "vm exec: --env '=x' is not NAME=value");
  o.env = {"A=1"};
  o.cwd = "srv";
  CHECK(ValidateExecOptions(o, ExecVia::kAuto).error().message() ==
        "vm exec: --workdir 'srv' is not an absolute path");
  o.cwd = "/srv";
  o.tty = true;
  CHECK(ValidateExecOptions(o, ExecVia::kAgent).ok());
  CHECK(ValidateExecOptions(o, ExecVia::kSsh).error().code() == Code::kInvalidArgument);
}

TEST_CASE("over SSH, env and cwd wrap the command") {
  ExecOptions o;
  o.argv = {"make", "-j2"};
  CHECK(SshExecArgv(o) == std::vector<std::string>{"make", "-j2"});
  o.env = {"A=1", "B=two words"};
  CHECK(SshExecArgv(o) == std::vector<std::string>{"env", "A=1", "B=two words", "make", "-j2"});
  o.cwd = "/srv/app";
  CHECK(SshExecArgv(o) == std::vector<std::string>{"sh", "-c", "cd \"$1\" && shift && exec \"$@\"",
                                                   "sh", "/srv/app", "env", "A=1", "B=two words",
                                                   "make", "-j2"});
}

}  // namespace
}  // namespace banger::cli
