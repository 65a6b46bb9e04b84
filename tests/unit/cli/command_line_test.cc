// The command line split at its first `--`: the words after it are the
// trailing command, never a verb's positionals.
#include <catch2/catch.hpp>

#include "reconciler/cli/command_line.h"

namespace banger::cli {
namespace {

SplitCommandLine Split(std::vector<const char*> argv) {
  return SplitAtDoubleDash(static_cast<int>(argv.size()), argv.data());
}

TEST_CASE("the first -- splits the command line") {
  auto line = Split({"banger", "vm", "run", "--", "sh", "-c", "echo -- x", "--"});
  CHECK(line.head == std::vector<std::string>{"banger", "vm", "run"});
  REQUIRE(line.trailing);
  CHECK(*line.trailing == std::vector<std::string>{"sh", "-c", "echo -- x", "--"});

  line = Split({"banger", "vm", "run", "src"});
  CHECK(line.head.size() == 4);
  CHECK_FALSE(line.trailing);

  line = Split({"banger", "vm", "run", ".", " --"});
  CHECK_FALSE(line.trailing);  // only a word that is exactly `--`

  line = Split({"banger", "vm", "run", "--"});
  REQUIRE(line.trailing);
  CHECK(line.trailing->empty());
}

// A verb shaped like `vm run`: an optional PATH, then the command after --.
struct RunLike {
  std::string path = ".";
  std::vector<std::string> command;
  bool remove = false;
  bool ran = false;
};

void AddRunLike(CLI::App& app, Command& command, RunLike& args) {
  CLI::App* run = app.add_subcommand("run", "");
  run->add_option("path", args.path, "");
  run->add_flag("--rm", args.remove, "");
  run->callback([&command, &args] {
    command.take_trailing = [&args](std::vector<std::string> w) { args.command = std::move(w); };
    command.run = [&args] { args.ran = true; return 0; };
  });
  app.add_subcommand("list", "")->callback([&command] { command.run = [] { return 0; }; });
}

TEST_CASE("the trailing command never fills PATH") {
  CLI::App app;
  Command command;
  RunLike args;
  AddRunLike(app, command, args);
  REQUIRE(ParseCommandLine(app, command, Split({"banger", "run", "--rm", "--", "sh", "-c", "pwd"})).ok());
  CHECK(args.path == ".");
  CHECK(args.command == std::vector<std::string>{"sh", "-c", "pwd"});
}

TEST_CASE("PATH before -- stays PATH") {
  CLI::App app;
  Command command;
  RunLike args;
  AddRunLike(app, command, args);
  REQUIRE(ParseCommandLine(app, command, Split({"banger", "run", "src", "--", "make", "--rm"})).ok());
  CHECK(args.path == "src");
  CHECK(args.command == std::vector<std::string>{"make", "--rm"});
}

TEST_CASE("a second positional before -- is refused by the parser") {
  CLI::App app;
  Command command;
  RunLike args;
  AddRunLike(app, command, args);
  CHECK_THROWS_AS(ParseCommandLine(app, command, Split({"banger", "run", "src", "make"})),
                  CLI::ParseError);
}

TEST_CASE("-- for a verb that runs no command is an error") {
  CLI::App app;
  Command command;
  RunLike args;
  AddRunLike(app, command, args);
  Status st = ParseCommandLine(app, command, Split({"banger", "list", "--", "x"}));
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code() == Code::kInvalidArgument);
  CHECK(st.error().message().find("`--` starts a command") != std::string::npos);
}

}  // namespace
}  // namespace banger::cli
