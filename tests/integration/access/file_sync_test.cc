// SyncFiles into a real sshd, over SFTP and over the remote-command
// fallback, checked on the "guest" side (a temp dir standing in for /root).
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "reconciler/access/file_sync.h"
#include "reconciler/observe/observer.h"
#include "tests/integration/access/test_guest.h"
#include "tests/support/test_env.h"

namespace banger::testing {
namespace {

using Clock = std::chrono::steady_clock;

class RecordingProgress : public apply::StepProgress {
 public:
  void Note(std::string_view m) override { notes.emplace_back(m); }
  std::vector<std::string> notes;
};

mode_t ModeOf(const std::string& path) {
  struct stat st;
  REQUIRE(lstat(path.c_str(), &st) == 0);
  CHECK(st.st_uid == 0);
  CHECK(st.st_gid == 0);
  return st.st_mode & 07777;
}

std::string Read(const std::string& path) {
  auto r = ReadFile(path);
  REQUIRE(r.ok());
  return *r;
}

void Chmod(const std::string& path, mode_t mode) { REQUIRE(chmod(path.c_str(), mode) == 0); }

specs::FileSyncSpec Entry(std::string name, std::string host, std::string guest,
                          std::optional<uint32_t> mode = std::nullopt) {
  specs::FileSyncSpec f;
  f.name = std::move(name);
  f.host = std::move(host);
  f.guest = std::move(guest);
  f.mode = mode;
  return f;
}

// Host content: a file, a script, and a tree with its own modes.
void MakeHostFiles(const std::string& home) {
  WriteFile(home, ".gitconfig", "[user]\n\tname = T\n");
  WriteFile(home, "bin/tool", "#!/bin/sh\necho tool\n");
  WriteFile(home, "proj/README", "readme\n");
  WriteFile(home, "proj/run.sh", "#!/bin/sh\n");
  WriteFile(home, "proj/secret/key", "k\n");
  Chmod(JoinPath(home, "proj"), 0750);
  Chmod(JoinPath(home, "proj/README"), 0644);
  Chmod(JoinPath(home, "proj/run.sh"), 0755);
  Chmod(JoinPath(home, "proj/secret"), 0700);
  Chmod(JoinPath(home, "proj/secret/key"), 0400);
  REQUIRE(symlink("README", JoinPath(home, "proj/link").c_str()) == 0);
}

const std::vector<specs::FileSyncSpec> kEntries = {
    Entry("gitconfig", "~/.gitconfig", "~/.gitconfig"),
    Entry("tool", "~/bin/tool", "/root/.local/bin/tool", 0755),
    Entry("proj", "~/proj", "~/src/proj"),
    Entry("absent", "~/does-not-exist", "~/absent"),
};

void CheckGuest(const GuestFixture& g, const std::map<std::string, std::string>& digests,
                const RecordingProgress& progress) {
  const std::string& root = g.guest_root;
  CHECK(Read(JoinPath(root, ".gitconfig")) == "[user]\n\tname = T\n");
  CHECK(ModeOf(JoinPath(root, ".gitconfig")) == 0600);  // default for files
  CHECK(Read(JoinPath(root, ".local/bin/tool")) == "#!/bin/sh\necho tool\n");
  CHECK(ModeOf(JoinPath(root, ".local/bin/tool")) == 0755);  // the entry's mode
  CHECK(ModeOf(JoinPath(root, ".local")) == 0755);           // created parent
  CHECK(ModeOf(JoinPath(root, "src/proj")) == 0750);          // own modes in trees
  CHECK(ModeOf(JoinPath(root, "src/proj/README")) == 0644);
  CHECK(ModeOf(JoinPath(root, "src/proj/run.sh")) == 0755);
  CHECK(ModeOf(JoinPath(root, "src/proj/secret")) == 0700);
  CHECK(ModeOf(JoinPath(root, "src/proj/secret/key")) == 0400);
  CHECK(Read(JoinPath(root, "src/proj/secret/key")) == "k\n");
  CHECK_FALSE(PathExists(JoinPath(root, "src/proj/link")));  // links are not synced
  CHECK_FALSE(PathExists(JoinPath(root, "absent")));

  REQUIRE(digests.size() == 4);
  CHECK(digests.at("gitconfig") == *observe::DigestHostPath(JoinPath(g.home, ".gitconfig")));
  CHECK(digests.at("proj") == *observe::DigestHostPath(JoinPath(g.home, "proj")));
  CHECK(digests.at("proj").rfind("sha256:", 0) == 0);
  CHECK(digests.at("absent") == "");
  REQUIRE(progress.notes.size() >= 1);
  CHECK(progress.notes.back().find("warning: file_sync 'absent'") != std::string::npos);

  // No temp files left behind anywhere.
  auto r = SystemRunner().Run({.argv = {"find", root, "-name", "*.banger-*"}});
  REQUIRE(r.ok());
  CHECK(r->out == "");
}

TEST_CASE("SyncFiles copies files and trees over SFTP with the right modes") {
  GuestFixture g;
  MakeHostFiles(g.home);
  REQUIRE(g.access->WaitForLogin("web", GuestFixture::kIp, Clock::now() + std::chrono::seconds(20)).ok());
  RecordingProgress progress;
  auto start = Clock::now();
  auto digests = g.access->SyncFiles("web", GuestFixture::kIp, kEntries, progress);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  REQUIRE(digests.ok());
  WARN("SyncFiles (4 entries, 6 files) over SFTP: " << took.count() << " ms");
  CHECK(progress.notes.size() == 1);  // only the missing path; SFTP was there
  CheckGuest(g, *digests, progress);

  // A second sync replaces existing files (sftp-server's rename cannot).
  WriteFile(g.home, ".gitconfig", "[user]\n\tname = Changed\n");
  Chmod(JoinPath(g.guest_root, ".gitconfig"), 0644);
  RecordingProgress again;
  auto second = g.access->SyncFiles("web", GuestFixture::kIp, kEntries, again);
  REQUIRE(second.ok());
  CHECK(Read(JoinPath(g.guest_root, ".gitconfig")) == "[user]\n\tname = Changed\n");
  CHECK(ModeOf(JoinPath(g.guest_root, ".gitconfig")) == 0600);
  CHECK(second->at("gitconfig") != digests->at("gitconfig"));
  REQUIRE(g.StopSshd());
}

TEST_CASE("SyncFiles falls back to remote commands without an SFTP subsystem") {
  GuestFixture g(/*with_sftp=*/false);
  MakeHostFiles(g.home);
  REQUIRE(g.access->WaitForLogin("web", GuestFixture::kIp, Clock::now() + std::chrono::seconds(20)).ok());
  RecordingProgress progress;
  auto digests = g.access->SyncFiles("web", GuestFixture::kIp, kEntries, progress);
  REQUIRE(digests.ok());
  REQUIRE(progress.notes.size() == 2);
  CHECK(progress.notes[0].find("no SFTP subsystem") != std::string::npos);
  CheckGuest(g, *digests, progress);

  WriteFile(g.home, "proj/README", "second\n");
  Chmod(JoinPath(g.home, "proj/README"), 0644);
  RecordingProgress again;
  REQUIRE(g.access->SyncFiles("web", GuestFixture::kIp, kEntries, again).ok());
  CHECK(Read(JoinPath(g.guest_root, "src/proj/README")) == "second\n");
  REQUIRE(g.StopSshd());
}

TEST_CASE("SyncFiles fails naming the entry for a guest path outside /root") {
  GuestFixture g;
  REQUIRE(g.access->WaitForLogin("web", GuestFixture::kIp, Clock::now() + std::chrono::seconds(20)).ok());
  WriteFile(g.home, "f", "x");
  RecordingProgress progress;
  auto r = g.access->SyncFiles("web", GuestFixture::kIp, {Entry("bad", "~/f", "/etc/f")}, progress);
  REQUIRE_FALSE(r.ok());
  INFO(r.error().message());
  CHECK(r.error().message().find("file_sync 'bad'") != std::string::npos);
  CHECK(r.error().message().find("not under /root") != std::string::npos);

  // A destination that exists as a file where a directory must go.
  WriteFile(g.home, "tree/a", "a");
  WriteFile(g.guest_root, "tree", "in the way");
  r = g.access->SyncFiles("web", GuestFixture::kIp, {Entry("tree", "~/tree", "~/tree")}, progress);
  REQUIRE_FALSE(r.ok());
  INFO(r.error().message());
  CHECK(r.error().message().find("file_sync 'tree'") != std::string::npos);
  CHECK(r.error().message().find("is not a directory") != std::string::npos);
  REQUIRE(g.StopSshd());
}

}  // namespace
}  // namespace banger::testing
