// The completion generator: what it reads from a CLI11 tree (subcommands,
// flags, valued options, positionals and what they complete to) and the
// tables and lines the three scripts carry.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "reconciler/cli/completion.h"

using namespace banger::cli;

namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A small tree shaped like banger's: nested verbs, VM-name positionals,
// a spec file option, a saved plan, a number, a choice and a hidden verb.
struct TestApp {
  CLI::App app{"test app"};
  std::string s;
  std::vector<std::string> v;
  int n = 0;
  bool b = false;
  TestApp() {
    app.name("prog");
    app.set_version_flag("--version", "1");
    CLI::App* apply = app.add_subcommand("apply", "converge");
    apply->add_option("-f,--file", v, "spec file");
    apply->add_flag("-y,--yes", b, "do not ask");
    apply->add_option("--parallelism", n, "steps")->check(CLI::Range(1, 64));
    apply->add_option("plan", s, "a saved plan");
    CLI::App* vm = app.add_subcommand("vm", "operate VMs");
    vm->add_subcommand("show", "one VM: it's \"all\"")->add_option("name", s, "VM name");
    vm->add_subcommand("stop", "stop VMs")->add_option("name", v, "VM names");
    CLI::App* exec = vm->add_subcommand("exec", "run a command");
    exec->add_option("name", s, "VM name");
    exec->add_option("command", v, "command");
    app.add_subcommand("completion", "scripts")
        ->add_option("shell", s, "shell")
        ->check(CLI::IsMember({"bash", "zsh", "fish"}));
    app.add_subcommand("secret", "not shown")->group("");
  }
};

const CompletionCommand* Find(const CompletionCommand& c, const std::string& path) {
  if (c.path == path) return &c;
  for (const auto& s : c.subcommands) {
    if (const auto* f = Find(s, path)) return f;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("completion: the tree is read from the CLI11 app") {
  TestApp t;
  CompletionCommand root = DescribeCommands(t.app);
  CHECK(root.path == "prog");
  std::vector<std::string> verbs;
  for (const auto& s : root.subcommands) verbs.push_back(s.name);
  CHECK(verbs == std::vector<std::string>{"apply", "vm", "completion"});  // not the hidden one

  const CompletionCommand* apply = Find(root, "prog apply");
  REQUIRE(apply != nullptr);
  REQUIRE(apply->options.size() == 4);  // help, file, yes, parallelism
  CHECK(apply->options[1].names == std::vector<std::string>{"-f", "--file"});
  CHECK(apply->options[1].takes_value);
  CHECK(apply->options[1].value.kind == ValueKind::kFile);
  CHECK_FALSE(apply->options[2].takes_value);
  CHECK(apply->options[3].value.kind == ValueKind::kNone);
  REQUIRE(apply->positionals.size() == 1);
  CHECK(apply->positionals[0].value.kind == ValueKind::kFile);

  const CompletionCommand* exec = Find(root, "prog vm exec");
  REQUIRE(exec != nullptr);
  REQUIRE(exec->positionals.size() == 2);
  CHECK(exec->positionals[0].value.kind == ValueKind::kVmName);
  CHECK_FALSE(exec->positionals[0].repeats);
  CHECK(exec->positionals[1].value.kind == ValueKind::kNone);
  CHECK(exec->positionals[1].repeats);

  const CompletionCommand* completion = Find(root, "prog completion");
  REQUIRE(completion != nullptr);
  CHECK(completion->positionals[0].value.kind == ValueKind::kWords);
  CHECK(completion->positionals[0].value.words == std::vector<std::string>{"bash", "zsh", "fish"});
}

TEST_CASE("completion: table rows list subcommands, flags, options and arguments") {
  TestApp t;
  CompletionCommand root = DescribeCommands(t.app);
  CompletionRow top = RowOf(root);
  CHECK(top.subs == "apply vm completion");
  CHECK(top.flags == "-h --help --version");
  CHECK(top.opts.empty());
  CompletionRow apply = RowOf(*Find(root, "prog apply"));
  CHECK(apply.flags == "-h --help -y --yes");
  CHECK(apply.opts == "-f=file --file=file --parallelism=none");
  CHECK(apply.args == "file");
  CHECK(RowOf(*Find(root, "prog vm stop")).args == "vm+");
  CHECK(RowOf(*Find(root, "prog vm exec")).args == "vm none+");
  CHECK(RowOf(*Find(root, "prog completion")).args == "w:bash,zsh,fish");
}

TEST_CASE("completion: the bash script carries every path and completes for `prog`") {
  TestApp t;
  const std::string script = BashCompletion(DescribeCommands(t.app));
  CHECK(Contains(script, "    'prog vm')\n      subs='show stop exec' flags='-h --help'\n"));
  CHECK(Contains(script, "    'prog vm exec')\n"));
  CHECK_FALSE(Contains(script, "secret"));
  CHECK(Contains(script, "vm list -q --all"));
  CHECK(Contains(script, "complete -F _prog prog\n"));
}

TEST_CASE("completion: zsh gets descriptions, fish native complete lines") {
  TestApp t;
  CompletionCommand root = DescribeCommands(t.app);
  const std::string zsh = ZshCompletion(root);
  CHECK(zsh.rfind("#compdef prog\n", 0) == 0);
  CHECK(Contains(zsh, "'show:one VM: it'\\''s \"all\"'"));
  CHECK(Contains(zsh, "'--file:spec file'"));
  CHECK(Contains(zsh, "compdef _prog prog"));

  const std::string fish = FishCompletion(root);
  CHECK(Contains(fish, "complete -c prog -n '__prog_at \\'prog vm\\'' -a 'show' "
                       "-d 'one VM: it\\'s \"all\"'\n"));
  CHECK(Contains(fish, "complete -c prog -n '__prog_at \\'prog apply\\'' -s f -l file -r -F "
                       "-d 'spec file'\n"));
  CHECK(Contains(fish, "complete -c prog -n '__prog_at \\'prog vm show\\'' -a '(__prog_vms)'\n"));
  CHECK(Contains(fish, "complete -c prog -n '__prog_at \\'prog completion\\'' -a 'bash zsh fish'\n"));
  CHECK(Contains(fish, "'prog apply --parallelism'"));  // a valued option skips its value
}

TEST_CASE("completion: shell quoting survives single quotes") {
  CHECK(ShellQuote("plain") == "'plain'");
  CHECK(ShellQuote("it's") == "'it'\\''s'");
  CHECK(ShellQuote("") == "''");
}
