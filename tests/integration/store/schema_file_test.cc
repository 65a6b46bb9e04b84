// schemas/store.sql is what a migrated state db holds: the CREATE statements
// and the pragmas. Whitespace and comments aside, the two must match.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <set>

#include "reconciler/os/fs.h"
#include "reconciler/store/migrations.h"
#include "tests/integration/store/store_fixture.h"

using namespace banger;
using namespace banger::store;
using namespace banger::store::testing;

namespace {

// Collapses whitespace and drops it next to punctuation, so layout does
// not count as a difference.
std::string Normalise(const std::string& sql) {
  std::string out;
  bool space = false;
  for (char c : sql) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = true;
      continue;
    }
    bool punct = c == '(' || c == ')' || c == ',' || c == ';';
    if (space && !out.empty() && !punct && out.back() != '(' && out.back() != ',') out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string StripComments(const std::string& text) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t dash = text.find("--", pos);
    if (dash == std::string::npos) {
      out += text.substr(pos);
      break;
    }
    out += text.substr(pos, dash - pos);
    size_t eol = text.find('\n', dash);
    pos = eol == std::string::npos ? text.size() : eol;
  }
  return out;
}

struct SchemaFile {
  std::multiset<std::string> creates;
  std::multiset<std::string> pragmas;
};

SchemaFile ParseSchemaFile(const std::string& text) {
  SchemaFile file;
  std::string body = StripComments(text);
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find(';', pos);
    std::string stmt = Normalise(body.substr(pos, end == std::string::npos ? end : end - pos));
    pos = end == std::string::npos ? body.size() : end + 1;
    if (stmt.empty()) continue;
    if (stmt.rfind("PRAGMA ", 0) == 0) {
      file.pragmas.insert(stmt);
    } else {
      file.creates.insert(stmt);
    }
  }
  return file;
}

}  // namespace

TEST_CASE("normalising ignores layout only") {
  CHECK(Normalise("CREATE TABLE t (\n  a TEXT,\n  b INT\n) STRICT") ==
        "CREATE TABLE t(a TEXT,b INT) STRICT");
  CHECK(Normalise("CREATE TABLE t (a TEXT)") != Normalise("CREATE TABLE t (a INT)"));
}

TEST_CASE("schemas/store.sql matches a freshly migrated state db") {
  auto text = ReadFile(banger::testing::SourceDir() + "/schemas/store.sql");
  REQUIRE(text.ok());
  SchemaFile file = ParseSchemaFile(*text);

  TempDir scratch = banger::testing::ScratchDir();
  { OpenStore(scratch.path()); }
  Database db = RawConnection(scratch.path());

  std::multiset<std::string> actual;
  auto stmt = Statement::Prepare(
      db, "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'");
  REQUIRE(stmt.ok());
  while (stmt->Step().value()) actual.insert(Normalise(stmt->ColumnText(0)));
  CHECK(actual.size() >= 7);
  CHECK(file.creates == actual);

  std::multiset<std::string> pragmas = {
      "PRAGMA application_id = " + std::to_string(db.PragmaInt("application_id").value()),
      "PRAGMA user_version = " + std::to_string(db.PragmaInt("user_version").value()),
  };
  CHECK(file.pragmas == pragmas);
  CHECK(db.PragmaInt("user_version").value() == static_cast<int64_t>(StoreMigrations().size()));
}
