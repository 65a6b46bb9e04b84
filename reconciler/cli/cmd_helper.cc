// banger helper serve --owner UID [...]: runs the root helper in the
// foreground (development and tests; the same code as `banger-helper`).
#include "helper/serve_command.h"
#include "reconciler/cli/cli.h"

namespace banger::cli {

void AddHelperCommand(CLI::App& app, Console&, Command& command) {
  CLI::App* helper = app.add_subcommand("helper", "the root helper");
  helper->require_subcommand(1);
  CLI::App* serve = helper->add_subcommand("serve", "run the root helper (as root)");
  // The helper parses its own flags strictly; pass them through untouched.
  serve->allow_extras();
  serve->prefix_command();
  serve->callback([&command, serve] {
    std::vector<std::string> args = serve->remaining();
    command.run = [args] { return helper::ServeMain(args); };
  });
}

}  // namespace banger::cli
