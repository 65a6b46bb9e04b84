// AtomicWriteFile from many threads at once: every call succeeds and the
// file always holds one whole payload (parallel image pulls write the
// shared cache's files concurrently).
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "reconciler/os/fs.h"
#include "tests/support/test_env.h"

using namespace banger;

TEST_CASE("AtomicWriteFile is safe from concurrent threads of one process") {
  TempDir dir = testing::ScratchDir();
  const std::string path = dir.path() + "/shared";
  std::vector<std::thread> threads;
  std::vector<int> failures(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      const std::string payload(4096, static_cast<char>('a' + t));
      for (int i = 0; i < 50; ++i)
        if (!AtomicWriteFile(path, payload, 0644).ok()) ++failures[t];
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) CHECK(f == 0);
  auto content = ReadFile(path);
  REQUIRE(content.ok());
  REQUIRE(content->size() == 4096);
  CHECK(*content == std::string(4096, (*content)[0]));
  auto names = ListDir(dir.path());
  REQUIRE(names.ok());
  CHECK(names->size() == 1);  // no temp files left behind
}
