// The user config (default_image, default_kernel): values, a missing file,
// and errors that name the file, line and key.
#include <stdlib.h>

#include <catch2/catch.hpp>

#include "specs/user_config.h"
#include "tests/support/test_env.h"

using namespace banger;
using banger::testing::ScratchDir;
using banger::testing::WriteFile;

TEST_CASE("the user config gives the defaults vm run uses") {
  TempDir dir = ScratchDir();
  auto config = specs::LoadUserConfig(
      WriteFile(dir.path(), "config.toml", "default_image = \"dev\"\ndefault_kernel = \"cloud\"\n"));
  REQUIRE(config.ok());
  CHECK(config->present);
  CHECK(config->default_image == "dev");
  CHECK(config->default_kernel == "cloud");

  auto missing = specs::LoadUserConfig(dir.path() + "/none.toml");
  REQUIRE(missing.ok());
  CHECK_FALSE(missing->present);
  CHECK(missing->default_image.empty());
  CHECK(missing->path == dir.path() + "/none.toml");
}

TEST_CASE("a bad user config is an error naming file, line and key") {
  TempDir dir = ScratchDir();
  const std::string path = WriteFile(dir.path(), "config.toml", "default_image = \"dev\"\ndefault_imag = \"x\"\n");
  auto unknown = specs::LoadUserConfig(path);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code() == Code::kInvalidArgument);
  CHECK(unknown.error().message().find(path + ":2:") == 0);
  CHECK(unknown.error().message().find("default_imag") != std::string::npos);

  auto bad_name = specs::LoadUserConfig(WriteFile(dir.path(), "b.toml", "default_kernel = \"Not A Name\"\n"));
  REQUIRE_FALSE(bad_name.ok());
  CHECK(bad_name.error().message().find("default_kernel") != std::string::npos);

  auto wrong_type = specs::LoadUserConfig(WriteFile(dir.path(), "c.toml", "default_image = 3\n"));
  REQUIRE_FALSE(wrong_type.ok());
  CHECK(wrong_type.error().message().find("expected a string") != std::string::npos);
}

TEST_CASE("the user config lives under XDG_CONFIG_HOME when it is set") {
  const char* old = getenv("XDG_CONFIG_HOME");
  std::string saved = old ? old : "";
  setenv("XDG_CONFIG_HOME", "/xdg/conf", 1);
  CHECK(specs::UserConfigPath() == "/xdg/conf/banger/config.toml");
  if (old) setenv("XDG_CONFIG_HOME", saved.c_str(), 1);
  else unsetenv("XDG_CONFIG_HOME");
}
