// The user's own defaults, for verbs that run without a spec:
// $XDG_CONFIG_HOME/banger/config.toml (~/.config/banger/config.toml).
//
//   default_image = "dev"
//   default_kernel = "cloud"
#pragma once

#include <string>

#include "reconciler/base/error.h"

namespace banger::specs {

struct UserConfig {
  std::string path;            // the file these came from
  bool present = false;        // the file exists
  std::string default_image;   // "" when not set
  std::string default_kernel;
};

// Where the user config lives for this environment.
std::string UserConfigPath();

// Reads `path`; a missing file is an empty config. A syntax error, an
// unknown key, a value of the wrong type or an invalid name is
// kInvalidArgument as "file:line:col: key: message".
Result<UserConfig> LoadUserConfig(const std::string& path);

}  // namespace banger::specs
