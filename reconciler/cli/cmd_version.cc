// banger version [--json]: this build, and the builds of the root helper and
// the daemon it would talk to (a helper left running from another install is the usual
// cause of surprises).
#include <ostream>

#include <nlohmann/json.hpp>

#include "reconciler/base/version.h"
#include <ctime>

#include "reconciler/cli/cli.h"
#include "reconciler/cli/session.h"
#include "reconciler/daemon/daemon_files.h"
#include "reconciler/net/helper_client.h"

namespace banger::cli {
namespace {

int RunVersion(Console& console, bool json) {
  const BuildInfo& b = ThisBuild();
  nlohmann::json out = {{"version", b.version}, {"commit", b.commit}, {"build_date", b.date}};
  nlohmann::json helper = {{"reachable", false}};
  // A quick answer or none: version must not hang on a wedged helper.
  auto client = net::HelperClient::Connect({.socket_path = "", .timeout = std::chrono::seconds(2)});
  if (client.ok()) {
    helper["socket"] = client->socket_path();
    if (auto ping = client->Ping(); ping.ok()) {
      helper["reachable"] = true;
      helper["build"] = ping->version;
      helper["same_build"] = ping->version == BuildString();
    } else {
      helper["error"] = ping.error().message();
    }
  } else {
    helper["error"] = client.error().message();
  }
  out["helper"] = helper;
  // The daemon of the default state dir (where `banger status` looks).
  nlohmann::json daemon_j = {{"running", false}};
  if (auto where = ResolveStateArgs({}); where.ok()) {
    daemon_j["state_dir"] = where->dir;
    auto d = daemon::ReadDaemonStatus(where->dir);
    if (d.ok() && *d && daemon::DaemonAlive(**d, time(nullptr))) {
      daemon_j = {{"running", true}, {"state_dir", where->dir}, {"pid", (*d)->pid},
                  {"build", (*d)->build}, {"same_build", (*d)->build == BuildString()}};
    }
  }
  out["daemon"] = daemon_j;
  if (json) {
    console.out << out.dump(2) << "\n";
    return kExitOk;
  }
  console.out << "banger " << BuildString() << "\n";
  if (helper["reachable"].get<bool>()) {
    console.out << "helper " << helper["build"].get<std::string>() << " at "
                << helper["socket"].get<std::string>() << "\n";
    if (!helper["same_build"].get<bool>())
      console.err << "warning: the helper is another build; restart it to run this one\n";
  } else {
    console.out << "helper not reachable (" << helper["error"].get<std::string>() << ")\n";
  }
  if (daemon_j["running"].get<bool>()) {
    console.out << "daemon " << daemon_j["build"].get<std::string>() << " (pid "
                << daemon_j["pid"] << ")\n";
    if (!daemon_j["same_build"].get<bool>())
      console.err << "warning: the daemon is another build; restart it to run this one\n";
  } else {
    console.out << "daemon not running\n";
  }
  return kExitOk;
}

}  // namespace

void AddVersionCommand(CLI::App& app, Console& console, Command& command) {
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("version", "this build, and the root helper's");
  cmd->add_flag("--json", *json, "JSON output");
  cmd->callback([&console, &command, json] {
    command.run = [&console, json] { return RunVersion(console, *json); };
  });
}

}  // namespace banger::cli
