// Setting the host's git identity in a guest's .gitconfig: only user.name
// and user.email change; every other byte of the file stays.
#include <catch2/catch.hpp>

#include <map>

#include "reconciler/runtime/git_identity.h"

using namespace banger;
using namespace banger::runtime;

namespace {

const GitIdentity kJane{"Jane Doe", "jane@example.org"};

// Answers `git config --global --get KEY` from a map; records nothing else.
class GitConfigRunner : public CommandRunner {
 public:
  explicit GitConfigRunner(std::map<std::string, std::string> values) : values_(std::move(values)) {}
  Result<ExecResult> Run(const ExecRequest& request) override {
    ExecResult r;
    REQUIRE(request.argv.size() == 5);
    auto it = values_.find(request.argv[4]);
    r.exit_code = it == values_.end() ? 1 : 0;
    if (it != values_.end()) r.out = it->second;
    return r;
  }

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace

TEST_CASE("git identity: a file without one gets a [user] section appended") {
  CHECK(SetGitIdentity("", kJane) == "[user]\n\tname = Jane Doe\n\temail = jane@example.org\n");
  const std::string other =
      "# my settings\n[core]\n\teditor = vim\n[alias]\n\tco = checkout ; short\n";
  CHECK(SetGitIdentity(other, kJane) ==
        other + "[user]\n\tname = Jane Doe\n\temail = jane@example.org\n");
  // A last line without its newline is completed, not joined.
  CHECK(SetGitIdentity("[core]\n\tpager = less", kJane) ==
        "[core]\n\tpager = less\n[user]\n\tname = Jane Doe\n\temail = jane@example.org\n");
}

TEST_CASE("git identity: existing keys are rewritten in place, the rest kept") {
  const std::string before =
      "; top comment\n"
      "[include]\n\tpath = ~/.gitconfig.local\n"
      "[user]\n"
      "\t# who I am in this VM\n"
      "\tname = Old Name\n"
      "\tsigningkey = ABC123\n"
      "\temail = old@example.org  # work\n"
      "[credential \"https://example.org\"]\n\thelper = store\n";
  const std::string after =
      "; top comment\n"
      "[include]\n\tpath = ~/.gitconfig.local\n"
      "[user]\n"
      "\t# who I am in this VM\n"
      "\tname = Jane Doe\n"
      "\tsigningkey = ABC123\n"
      "\temail = jane@example.org\n"
      "[credential \"https://example.org\"]\n\thelper = store\n";
  CHECK(SetGitIdentity(before, kJane) == after);
  CHECK(SetGitIdentity(after, kJane) == after);  // idempotent
}

TEST_CASE("git identity: a missing key joins the last [user] section") {
  const std::string before =
      "[user]\n\tname = Someone\n[core]\n\tautocrlf = input\n[user]\n\tsigningkey = K\n# end\n";
  CHECK(SetGitIdentity(before, kJane) ==
        "[user]\n\tname = Jane Doe\n[core]\n\tautocrlf = input\n[user]\n\tsigningkey = K\n"
        "\temail = jane@example.org\n# end\n");
}

TEST_CASE("git identity: only the plain [user] section is the identity") {
  const std::string before =
      "[user \"work\"]\n\tname = Sub\n[user.old]\n\temail = dotted@x\n[alias]\n\tname = !echo\n";
  CHECK(SetGitIdentity(before, kJane) ==
        before + "[user]\n\tname = Jane Doe\n\temail = jane@example.org\n");
}

TEST_CASE("git identity: keys and sections match without regard to case") {
  CHECK(SetGitIdentity("[User]\n\tNAME = a\n\tEmail=b\n", kJane) ==
        "[User]\n\tname = Jane Doe\n\temail = jane@example.org\n");
}

TEST_CASE("git identity: shadowed duplicates and continued values go") {
  const std::string before =
      "[user]\n\tname = First\n\temail = a@x\n[user]\n\tname = Second \\\n   continued\n"
      "\tname = \"Third; with \\\" quote\"\n\tx = 1\n";
  CHECK(SetGitIdentity(before, kJane) ==
        "[user]\n\temail = jane@example.org\n[user]\n\tname = Jane Doe\n\tx = 1\n");
}

TEST_CASE("git identity: an assignment on the header's line keeps the header") {
  CHECK(SetGitIdentity("[user] name = Old\n\temail = e@x\n", kJane) ==
        "[user]\n\tname = Jane Doe\n\temail = jane@example.org\n");
}

TEST_CASE("git identity: a key the host does not set is left alone") {
  const std::string before = "[user]\n\tname = Guest Name\n\temail = guest@x\n";
  CHECK(SetGitIdentity(before, {"", "jane@example.org"}) ==
        "[user]\n\tname = Guest Name\n\temail = jane@example.org\n");
  CHECK(SetGitIdentity(before, {}) == before);
}

TEST_CASE("git identity: values are written the way git quotes them") {
  CHECK(EncodeGitConfigValue("Jane Doe") == "Jane Doe");
  CHECK(EncodeGitConfigValue("O\"Brien \\ Co") == "O\\\"Brien \\\\ Co");
  CHECK(EncodeGitConfigValue("a#b") == "\"a#b\"");
  CHECK(EncodeGitConfigValue("a;b") == "\"a;b\"");
  CHECK(EncodeGitConfigValue(" padded ") == "\" padded \"");
  CHECK(EncodeGitConfigValue("tab\there") == "tab\\there");
  CHECK(SetGitIdentity("", {"J \"Q\" Public", "j\\q@x"}) ==
        "[user]\n\tname = J \\\"Q\\\" Public\n\temail = j\\\\q@x\n");
}

TEST_CASE("git identity: read from the host's global config") {
  GitConfigRunner both({{"user.name", "Jane Doe\n"}, {"user.email", "jane@example.org\n"}});
  GitIdentity id = HostGitIdentity(both);
  CHECK(id.name == "Jane Doe");
  CHECK(id.email == "jane@example.org");
  GitConfigRunner none({});
  CHECK(HostGitIdentity(none).empty());
  GitConfigRunner multiline({{"user.name", "a\nb\n"}, {"user.email", "e@x\n"}});
  id = HostGitIdentity(multiline);
  CHECK(id.name.empty());
  CHECK(id.email == "e@x");
}
