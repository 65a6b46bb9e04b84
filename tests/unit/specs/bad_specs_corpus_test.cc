// The bad-spec corpus: each tests/fixtures/bad_specs/NAME.toml (or NAME/, a
// directory read as one set of files) has a sibling NAME.expected holding
// the exact report, one diagnostic per line; warnings are prefixed with
// "warning: ". Files are shown relative to the corpus directory so the
// expectations do not depend on where the repository lives (host paths in
// messages are shown the same way).
#include <catch2/catch.hpp>

#include <set>

#include "reconciler/os/fs.h"
#include "specs/loader.h"
#include "tests/support/test_env.h"

using namespace banger;
using namespace banger::specs;

namespace {

std::string CorpusDir() { return banger::testing::SourceDir() + "/tests/fixtures/bad_specs"; }

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string Report(ParseOutcome out, const std::string& strip_prefix) {
  CheckReferences(&out, KnownObjects{});
  std::string report;
  auto add = [&](const Diagnostic& d, std::string_view prefix) {
    std::string line = std::string(prefix) + d.ToString();
    for (size_t at; !strip_prefix.empty() && (at = line.find(strip_prefix)) != std::string::npos;)
      line.erase(at, strip_prefix.size());
    report += line + "\n";
  };
  for (const Diagnostic& d : out.errors) add(d, "");
  for (const Diagnostic& d : out.warnings) add(d, "warning: ");
  return report;
}

}  // namespace

TEST_CASE("Every bad spec in the corpus gives exactly its expected report") {
  Result<std::vector<std::string>> names = ListDir(CorpusDir());
  REQUIRE(names.ok());
  std::set<std::string> cases, expectations;
  for (const std::string& name : *names) {
    if (EndsWith(name, ".expected"))
      expectations.insert(name.substr(0, name.size() - 9));
    else if (EndsWith(name, ".toml"))
      cases.insert(name.substr(0, name.size() - 5));
    else if (IsDirectory(JoinPath(CorpusDir(), name)))
      cases.insert(name);
  }
  CHECK(cases == expectations);
  CHECK(cases.size() >= 25);

  for (const std::string& name : cases) {
    SECTION(name) {
      std::string path = JoinPath(CorpusDir(), name);
      std::string report;
      if (IsDirectory(path)) {
        report = Report(ParseSpecFiles({path}), CorpusDir() + "/");
      } else {
        Result<std::string> text = ReadFile(path + ".toml");
        REQUIRE(text.ok());
        report = Report(ParseSpecText(*text, name + ".toml", CorpusDir()), CorpusDir() + "/");
      }
      Result<std::string> expected = ReadFile(path + ".expected");
      REQUIRE(expected.ok());
      CHECK(report == *expected);
      // A bad spec must be refused, not merely warned about.
      CHECK(report.find('\n') != std::string::npos);
      CHECK(report.rfind("warning: ", 0) != 0);
    }
  }
}
