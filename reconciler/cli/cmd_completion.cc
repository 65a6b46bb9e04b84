// `banger completion bash|zsh|fish`: prints a completion script for the
// shell, generated from this very command tree.
#include <memory>

#include "reconciler/cli/cli.h"
#include "reconciler/cli/completion.h"

namespace banger::cli {

void AddCompletionCommand(CLI::App& app, Console& console, Command& command) {
  auto shell = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "completion", "print a shell completion script (e.g. source <(banger completion bash))");
  cmd->add_option("shell", *shell, "the shell to complete in")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}));
  cmd->callback([&console, &command, &app, shell] {
    command.run = [&console, &app, shell] {
      // Described when run, so verbs registered after this one are included.
      const CompletionCommand root = DescribeCommands(app);
      if (*shell == "bash") console.out << BashCompletion(root);
      else if (*shell == "zsh") console.out << ZshCompletion(root);
      else console.out << FishCompletion(root);
      return kExitOk;
    };
  });
}

}  // namespace banger::cli
