// CappedLog against files in a scratch directory: rotation keeps the newest
// output and bounds the total size.
#include <catch2/catch.hpp>

#include <string>

#include "reconciler/os/fs.h"
#include "reconciler/vmm/console_logger.h"
#include "tests/support/test_env.h"

namespace banger::vmm {
namespace {

std::string Read(const std::string& path) {
  auto r = ReadFile(path);
  return r.ok() ? *r : std::string("<missing>");
}

TEST_CASE("capped log: below half the cap everything stays in one file") {
  TempDir dir = testing::ScratchDir();
  const std::string path = JoinPath(dir.path(), "console.log");
  auto log = CappedLog::Open(path, 16384);
  REQUIRE(log.ok());
  CHECK(log->file_limit() == 8192);
  REQUIRE(log->Write("hello\n", 6) == 0);
  CHECK(Read(path) == "hello\n");
  CHECK_FALSE(PathExists(path + ".1"));
}

TEST_CASE("capped log: rotation keeps the newest bytes and the total bounded") {
  TempDir dir = testing::ScratchDir();
  const std::string path = JoinPath(dir.path(), "console.log");
  auto log = CappedLog::Open(path, 8192);
  REQUIRE(log.ok());
  // Written in uneven chunks; the files split at multiples of 4096 bytes.
  std::string all;
  for (int i = 0; i < 10000; ++i) all += static_cast<char>('a' + i % 26);
  size_t off = 0;
  for (size_t chunk : {1000u, 3000u, 2500u, 3500u}) {
    REQUIRE(log->Write(all.data() + off, chunk) == 0);
    off += chunk;
  }
  std::string current = Read(path), previous = Read(path + ".1");
  CHECK(current.size() + previous.size() <= 8192);
  CHECK(current.size() == 10000 - 2 * 4096);
  CHECK(previous == all.substr(4096, 4096));
  CHECK(current == all.substr(8192));
}

TEST_CASE("capped log: reopening appends to what is there and respects the cap") {
  TempDir dir = testing::ScratchDir();
  const std::string path = JoinPath(dir.path(), "console.log");
  {
    auto log = CappedLog::Open(path, 8192);
    REQUIRE(log.ok());
    std::string s(4000, 'x');
    REQUIRE(log->Write(s.data(), s.size()) == 0);
  }
  auto log = CappedLog::Open(path, 8192);
  REQUIRE(log.ok());
  std::string s(200, 'y');
  REQUIRE(log->Write(s.data(), s.size()) == 0);
  CHECK(Read(path + ".1") == std::string(4000, 'x') + std::string(96, 'y'));
  CHECK(Read(path) == std::string(104, 'y'));
}

TEST_CASE("capped log: a cap below the minimum is refused") {
  TempDir dir = testing::ScratchDir();
  auto log = CappedLog::Open(JoinPath(dir.path(), "c.log"), 100);
  REQUIRE_FALSE(log.ok());
  CHECK(log.error().code() == Code::kInvalidArgument);
}

TEST_CASE("capped log: an unwritable location fails with the path named") {
  auto log = CappedLog::Open("/nonexistent-dir/console.log", 1 << 20);
  REQUIRE_FALSE(log.ok());
  CHECK(log.error().message().find("'/nonexistent-dir/console.log'") != std::string::npos);
}

}  // namespace
}  // namespace banger::vmm
