// Registry credentials and authentication challenges.
//
// Credentials come from a Docker client config (~/.docker/config.json,
// `auths` -> `auth` = base64("user:pass")) and are looked up for exactly
// one registry. Credential helpers (`credsStore`, `credHelpers`) are not
// run: banger never executes programs named by a config file.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "reconciler/base/error.h"

namespace banger::oci {

struct Credentials {
  std::string username;
  std::string password;
};

// The credentials for `registry` in a config.json text; nullopt when it has
// none. Malformed JSON or base64 is an error naming `source`.
Result<std::optional<Credentials>> FindDockerCredentials(std::string_view config_text,
                                                         std::string_view registry,
                                                         std::string_view source);

// Reads `path` (a missing file means no credentials).
Result<std::optional<Credentials>> LoadDockerCredentials(const std::string& path,
                                                         std::string_view registry);

// $HOME/.docker/config.json.
std::string DefaultDockerConfigPath();

// A parsed WWW-Authenticate header: `Bearer realm="...",service="..."`.
struct Challenge {
  std::string scheme;                         // lower-case: "bearer", "basic"
  std::map<std::string, std::string> params;  // lower-case names

  std::string Param(const std::string& name) const;
};

Result<Challenge> ParseChallenge(std::string_view header);

std::string Base64Encode(std::string_view data);
Result<std::string> Base64Decode(std::string_view text);

}  // namespace banger::oci
