// schemas/banger.schema.json and the parser must accept the same keys: the
// schema is what editors check while typing, the parser what banger enforces.
#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "specs/loader.h"
#include "tests/support/test_env.h"

using nlohmann::json;
using namespace banger::specs;

namespace {

json LoadSchema() {
  std::ifstream in(banger::testing::SourceDir() + "/schemas/banger.schema.json");
  REQUIRE(in.good());
  return json::parse(in);
}

// Follows "$ref" ("#/definitions/x") and the "items" of arrays of tables.
const json& Resolve(const json& root, const json* node) {
  for (;;) {
    if (node->contains("$ref")) {
      std::string ref = (*node)["$ref"].get<std::string>();
      REQUIRE(ref.rfind("#/", 0) == 0);
      node = &root.at(json::json_pointer(ref.substr(1)));
    } else if (node->value("type", "") == "array" && node->contains("items") &&
               Resolve(root, &(*node)["items"]).value("type", "") == "object") {
      node = &(*node)["items"];
    } else {
      return *node;
    }
  }
}

// Every object schema reachable from `node` with fixed properties, by table
// path ("" for the top level, "kernel.path", ...).
void CollectTables(const json& root, const json& node, const std::string& path,
                   std::map<std::string, std::set<std::string>>* out) {
  const json& n = Resolve(root, &node);
  if (n.value("type", "") != "object" || !n.contains("properties")) return;
  INFO("table '" << path << "'");
  CHECK(n.value("additionalProperties", true) == false);
  std::set<std::string>& keys = (*out)[path];
  for (auto& [key, prop] : n["properties"].items()) {
    keys.insert(key);
    const json& resolved = Resolve(root, &prop);
    INFO("key '" << key << "'");
    CHECK((prop.contains("description") || resolved.contains("description")));
    CollectTables(root, prop, path.empty() ? key : path + "." + key, out);
  }
}

}  // namespace

TEST_CASE("The schema allows exactly the keys the parser knows, table by table") {
  json schema = LoadSchema();
  std::map<std::string, std::set<std::string>> schema_tables;
  CollectTables(schema, schema, "", &schema_tables);

  std::map<std::string, std::set<std::string>> parser_tables;
  for (const auto& [table, keys] : KnownKeys())
    parser_tables[table] = std::set<std::string>(keys.begin(), keys.end());

  for (const auto& [table, keys] : parser_tables) {
    INFO("table '" << table << "'");
    REQUIRE(schema_tables.count(table) == 1);
    CHECK(schema_tables[table] == keys);
  }
  for (const auto& [table, keys] : schema_tables) {
    INFO("schema table '" << table << "' is not known to the parser");
    CHECK(parser_tables.count(table) == 1);
  }
}

TEST_CASE("Labels are the one free-form table, closed by a key pattern") {
  json schema = LoadSchema();
  const json& labels = schema["definitions"]["vm"]["properties"]["labels"];
  CHECK(labels["additionalProperties"] == false);
  CHECK(labels["propertyNames"]["pattern"] == "^[a-z0-9][a-z0-9_.-]{0,62}$");
}
