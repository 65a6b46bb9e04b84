// Opening the state db: creation, configuration, migration, and refusing
// files that are damaged, foreign or from a newer banger.
#include <catch2/catch.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reconciler/os/fs.h"
#include "reconciler/store/migrations.h"
#include "tests/integration/store/store_fixture.h"

using namespace banger;
using namespace banger::store;
using namespace banger::store::testing;

namespace {

int64_t Pragma(Database& db, const char* name) {
  auto v = db.PragmaInt(name);
  REQUIRE(v.ok());
  return *v;
}

// Every descriptor this process holds on `prefix`-named files.
std::vector<int> FdsOn(const std::string& prefix) {
  std::vector<int> fds;
  DIR* dir = opendir("/proc/self/fd");
  REQUIRE(dir != nullptr);
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    char target[4096];
    std::string link = std::string("/proc/self/fd/") + e->d_name;
    ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    target[n] = '\0';
    if (std::string(target).rfind(prefix, 0) == 0) fds.push_back(std::stoi(e->d_name));
  }
  closedir(dir);
  return fds;
}

}  // namespace

TEST_CASE("open creates a private state dir, WAL db and the latest schema") {
  TempDir scratch = banger::testing::ScratchDir();
  const std::string dir = scratch.path() + "/nested/state";
  auto store = OpenStore(dir);
  struct stat st {};
  REQUIRE(stat(dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  CHECK(store->path() == dir + "/state.db");
  CHECK(PathExists(dir + "/state.db"));

  Database raw = RawConnection(dir);
  Statement jm = Statement::Prepare(raw, "PRAGMA journal_mode").value();
  REQUIRE(jm.Step().value());
  CHECK(jm.ColumnText(0) == "wal");
  CHECK(Pragma(raw, "user_version") == static_cast<int64_t>(StoreMigrations().size()));
  CHECK(Pragma(raw, "application_id") == kApplicationId);
}

TEST_CASE("the store's descriptors are close-on-exec") {
  TempDir scratch = banger::testing::ScratchDir();
  auto store = OpenStore(scratch.path());
  REQUIRE(store->PutVm(Vm("web")).ok());  // opens the WAL and shm files too
  auto fds = FdsOn(scratch.path());
  CHECK(fds.size() >= 2);
  for (int fd : fds) {
    INFO("fd " << fd);
    CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
  }
}

TEST_CASE("reopening keeps data and does not migrate again") {
  TempDir scratch = banger::testing::ScratchDir();
  { REQUIRE(OpenStore(scratch.path())->PutKernel(Kernel("cloud")).ok()); }
  auto store = OpenStore(scratch.path());
  CHECK(SerialOf(*store) == 1);
  CHECK(store->Load()->kernels.count("cloud") == 1);
}

TEST_CASE("a file that is not a database is refused as corrupt, naming it") {
  TempDir scratch = banger::testing::ScratchDir();
  banger::testing::WriteFile(scratch.path(), "state.db",
                             std::string(8192, 'x') + "definitely not sqlite");
  auto store = Store::Open(scratch.path());
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().code() == Code::kCorruption);
  CHECK_THAT(store.error().message(), Catch::Contains("'" + scratch.path() + "/state.db'"));
}

TEST_CASE("a database with damaged pages is refused as corrupt") {
  TempDir scratch = banger::testing::ScratchDir();
  {
    auto store = OpenStore(scratch.path());
    for (int i = 0; i < 20; ++i) REQUIRE(store->PutVm(Vm("vm" + std::to_string(i))).ok());
  }
  // Closing the last connection checkpointed the WAL into the main file;
  // scribble over everything after the first page.
  const std::string path = scratch.path() + "/state.db";
  std::string bytes = ReadFile(path).value();
  REQUIRE(bytes.size() > 8192);
  for (size_t i = 4096; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7);
  REQUIRE(AtomicWriteFile(path, bytes).ok());

  auto store = Store::Open(scratch.path());
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().code() == Code::kCorruption);
  CHECK_THAT(store.error().message(), Catch::Contains("'" + path + "'"));
}

TEST_CASE("a state.db that cannot be opened is an I/O error naming it") {
  TempDir scratch = banger::testing::ScratchDir();
  REQUIRE(MakeDirs(scratch.path() + "/state.db").ok());
  auto store = Store::Open(scratch.path());
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().code() == Code::kIo);
  CHECK_THAT(store.error().message(), Catch::Contains("'" + scratch.path() + "/state.db'"));
}

TEST_CASE("another program's SQLite file is not migrated into") {
  TempDir scratch = banger::testing::ScratchDir();
  {
    Database raw = RawConnection(scratch.path());
    REQUIRE(raw.Exec("CREATE TABLE notes (body TEXT)").ok());
  }
  auto store = Store::Open(scratch.path());
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().code() == Code::kCorruption);
  CHECK_THAT(store.error().message(), Catch::Contains("not a banger state db"));

  TempDir other = banger::testing::ScratchDir();
  {
    Database raw = RawConnection(other.path());
    REQUIRE(raw.Exec("PRAGMA user_version = 1").ok());
  }
  auto versioned = Store::Open(other.path());
  REQUIRE_FALSE(versioned.ok());
  CHECK_THAT(versioned.error().message(), Catch::Contains("application_id 0"));
}

TEST_CASE("a db written by a newer banger is refused with a clear message") {
  TempDir scratch = banger::testing::ScratchDir();
  { OpenStore(scratch.path()); }
  {
    Database raw = RawConnection(scratch.path());
    REQUIRE(raw.Exec("PRAGMA user_version = 99").ok());
  }
  auto store = Store::Open(scratch.path());
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().code() == Code::kFailedPrecondition);
  CHECK(store.error().message() ==
        "state db '" + scratch.path() + "/state.db' has schema version 99 but this banger knows "
        "versions up to " + std::to_string(StoreMigrations().size()) +
        "; it was written by a newer banger, so use that one");
}

TEST_CASE("a failed migration step leaves the db at the version before it") {
  TempDir scratch = banger::testing::ScratchDir();
  Database db = RawConnection(scratch.path());
  const std::vector<Migration> steps = {
      {1, "create notes", "CREATE TABLE notes (body TEXT NOT NULL);"},
      {2, "add tags", "CREATE TABLE tags (name TEXT); INSERT INTO notes VALUES (NULL);"},
  };
  Status st = Migrate(db, steps);
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.error().message(), Catch::StartsWith("migrate state db to version 2 (add tags)"));
  CHECK(Pragma(db, "user_version") == 1);
  // Step 2's first statement was rolled back with it.
  auto tags = Statement::Prepare(db, "SELECT count(*) FROM tags");
  CHECK_FALSE(tags.ok());

  // A fixed step 2 then applies, and running again is a no-op.
  const std::vector<Migration> fixed = {steps[0], {2, "add tags", "CREATE TABLE tags (name TEXT);"}};
  REQUIRE(Migrate(db, fixed).ok());
  CHECK(Pragma(db, "user_version") == 2);
  REQUIRE(Migrate(db, fixed).ok());
  CHECK(Pragma(db, "user_version") == 2);
}

TEST_CASE("migration steps must be numbered in order") {
  TempDir scratch = banger::testing::ScratchDir();
  Database db = RawConnection(scratch.path());
  const std::vector<Migration> gap = {{1, "a", "SELECT 1;"}, {3, "c", "SELECT 1;"}};
  Status st = Migrate(db, gap);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code() == Code::kInternal);
  CHECK(Pragma(db, "user_version") == 0);
}
