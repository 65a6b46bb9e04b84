#include "specs/user_config.h"

#include <stdlib.h>

#include "reconciler/os/fs.h"
#include "specs/toml_reader.h"
#include "specs/value_rules.h"

namespace banger::specs {

std::string UserConfigPath() {
  const char* xdg = getenv("XDG_CONFIG_HOME");
  const std::string base = (xdg && *xdg == '/') ? std::string(xdg) : JoinPath(HomeDir(), ".config");
  return JoinPath(base, "banger/config.toml");
}

Result<UserConfig> LoadUserConfig(const std::string& path) {
  UserConfig config;
  config.path = path;
  if (!PathExists(path)) return config;
  config.present = true;
  BANGER_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  ParseOutcome outcome;
  DiagnosticSink sink(path, &outcome);
  std::optional<toml::table> table = ParseToml(text, &sink);
  if (table) {
    TableReader reader(*table, "", &sink);
    reader.RejectUnknownKeys({"default_image", "default_kernel"});
    if (auto v = reader.String("default_image"); v && reader.Check("default_image", CheckName(*v)))
      config.default_image = *v;
    if (auto v = reader.String("default_kernel"); v && reader.Check("default_kernel", CheckName(*v)))
      config.default_kernel = *v;
  }
  if (!outcome.errors.empty()) return InvalidArgument(outcome.errors.front().ToString());
  return config;
}

}  // namespace banger::specs
