// The environment InitProcessTitle moved to the heap (catch_main calls it, as
// the CLI's main does) stays usable and owned: setenv() and unsetenv() on a
// variable that was there at start overwrite or drop its slot in place. Under
// the sanitizer build the leak checker at exit is what notices a string that
// lost its last reference that way.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <string>

namespace banger {
namespace {

TEST_CASE("process title: a variable there at start can be replaced and removed") {
  // Entries are appended by setenv, so the first is one InitProcessTitle moved.
  REQUIRE(environ != nullptr);
  REQUIRE(environ[0] != nullptr);
  const std::string entry = environ[0];
  const size_t eq = entry.find('=');
  REQUIRE(eq != std::string::npos);
  REQUIRE(eq > 0);
  const std::string name = entry.substr(0, eq);
  const std::string value = entry.substr(eq + 1);

  REQUIRE(setenv(name.c_str(), "replaced", 1) == 0);
  CHECK(std::string(getenv(name.c_str())) == "replaced");
  REQUIRE(unsetenv(name.c_str()) == 0);
  CHECK(getenv(name.c_str()) == nullptr);
  REQUIRE(setenv(name.c_str(), value.c_str(), 1) == 0);
  CHECK(std::string(getenv(name.c_str())) == value);
}

}  // namespace
}  // namespace banger
