#include <catch2/catch.hpp>

#include "reconciler/access/remote_command.h"

namespace banger::access {
namespace {

TEST_CASE("ShellQuote leaves plain words and single-quotes the rest") {
  CHECK(ShellQuote("ls") == "ls");
  CHECK(ShellQuote("/usr/bin/env") == "/usr/bin/env");
  CHECK(ShellQuote("a-b_c.d,e:f@g%h+i") == "a-b_c.d,e:f@g%h+i");
  CHECK(ShellQuote("") == "''");
  CHECK(ShellQuote("a b") == "'a b'");
  CHECK(ShellQuote("it's") == "'it'\\''s'");
  CHECK(ShellQuote("$HOME") == "'$HOME'");
  CHECK(ShellQuote("x=1") == "'x=1'");
  CHECK(ShellQuote("*") == "'*'");
  CHECK(ShellQuote("a;rm -rf /") == "'a;rm -rf /'");
  CHECK(ShellQuote("line\nbreak") == "'line\nbreak'");
  CHECK(ShellQuote("~") == "'~'");
}

TEST_CASE("RemoteCommandLine keeps argument boundaries") {
  CHECK(RemoteCommandLine({"echo", "a b", "", "'q'"}) == "echo 'a b' '' ''\\''q'\\'''");
  CHECK(RemoteCommandLine({"sh", "-c", "exit 3"}) == "sh -c 'exit 3'");
  CHECK(RemoteCommandLine({}) == "");
  CHECK(RemoteCommandChain({{"mkdir", "-p", "--", "/root/a b"}, {"chmod", "0700", "--", "/root/a b"}}) ==
        "mkdir -p -- '/root/a b' && chmod 0700 -- '/root/a b'");
}

}  // namespace
}  // namespace banger::access
