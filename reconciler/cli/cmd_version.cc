// banger version [--json]: this build, and the build of the root helper it
// would talk to (a helper left running from another install is the usual
// cause of surprises).
#include <ostream>

#include <nlohmann/json.hpp>

#include "reconciler/base/version.h"
#include "reconciler/cli/cli.h"
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
