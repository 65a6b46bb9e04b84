// put/get through the real agent: owners and modes survive both ways, a
// put creates its directory, failures carry tar's reason, and file_sync
// through the agent writes each file atomically with the entry's modes.
#include <fcntl.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "reconciler/access/file_sync.h"
#include "reconciler/agent/agent_guest_files.h"
#include "reconciler/agent/agent_transfer.h"
#include "tests/integration/agent/agent_fixture.h"

namespace banger::testing {
namespace {

using std::chrono::seconds;

struct Stat {
  mode_t mode;
  uid_t uid;
  gid_t gid;
};

Stat StatOf(const std::string& path) {
  struct stat st;
  REQUIRE(lstat(path.c_str(), &st) == 0);
  return {st.st_mode, st.st_uid, st.st_gid};
}

agentclient::TarEntry File(std::string name, std::string host, mode_t mode, uid_t uid, gid_t gid) {
  agentclient::TarEntry e;
  e.name = std::move(name);
  e.host_path = std::move(host);
  e.mode = mode;
  e.uid = uid;
  e.gid = gid;
  return e;
}

TEST_CASE("put writes entries with their owners and modes, creating the directory") {
  AgentFixture agent;
  WriteFile(agent.dir(), "src/data", "payload\n");
  const std::string dest = JoinPath(agent.dir(), "new/dest");
  agentclient::TarEntry dir;
  dir.name = "sub";
  dir.directory = true;
  dir.mode = 0710;
  dir.uid = 4321;
  dir.gid = 4322;
  auto client = agent.Client();
  REQUIRE(agentclient::PutEntries(client, dest,
                                  {dir, File("sub/f", JoinPath(agent.dir(), "src/data"), 0640, 1234, 1235),
                                   File("top", JoinPath(agent.dir(), "src/data"), 04755, 0, 0)},
                                  In(seconds(30))).ok());
  CHECK(*ReadFile(JoinPath(dest, "sub/f")) == "payload\n");
  Stat d = StatOf(JoinPath(dest, "sub"));
  CHECK(d.mode == (S_IFDIR | 0710));
  CHECK(d.uid == 4321);
  CHECK(d.gid == 4322);
  Stat f = StatOf(JoinPath(dest, "sub/f"));
  CHECK(f.mode == (S_IFREG | 0640));
  CHECK(f.uid == 1234);
  CHECK(f.gid == 1235);
  CHECK(StatOf(JoinPath(dest, "top")).mode == (S_IFREG | 04755));
}

TEST_CASE("get then put copies a tree with owners, modes and symlinks") {
  AgentFixture agent;
  const std::string src = JoinPath(agent.dir(), "src");
  WriteFile(src, "a/b/c.txt", "deep\n");
  WriteFile(src, "x", std::string(200 * 1024, 'x'));  // several frames
  REQUIRE(chmod(JoinPath(src, "a/b").c_str(), 0701) == 0);
  REQUIRE(chown(JoinPath(src, "a/b/c.txt").c_str(), 777, 778) == 0);
  REQUIRE(symlink("a/b/c.txt", JoinPath(src, "link").c_str()) == 0);

  auto client = agent.Client();
  std::string tar;
  REQUIRE(agentclient::GetTarStream(client, src, [&](std::string_view d) {
            tar.append(d);
            return OkStatus();
          }, In(seconds(30))).ok());
  CHECK(tar.size() > 200 * 1024);
  const std::string tar_path = JoinPath(agent.dir(), "copy.tar");
  REQUIRE(AtomicWriteFile(tar_path, tar, 0600).ok());

  const std::string dest = JoinPath(agent.dir(), "dest");
  UniqueFd in(open(tar_path.c_str(), O_RDONLY | O_CLOEXEC));
  REQUIRE(agentclient::PutTarStream(client, dest, in.get(), In(seconds(30))).ok());
  CHECK(*ReadFile(JoinPath(dest, "a/b/c.txt")) == "deep\n");
  CHECK(*ReadFile(JoinPath(dest, "x")) == std::string(200 * 1024, 'x'));
  CHECK(StatOf(JoinPath(dest, "a/b")).mode == (S_IFDIR | 0701));
  Stat c = StatOf(JoinPath(dest, "a/b/c.txt"));
  CHECK(c.uid == 777);
  CHECK(c.gid == 778);
  CHECK(S_ISLNK(StatOf(JoinPath(dest, "link")).mode));
}

TEST_CASE("transfer failures name the directory and tar's reason") {
  AgentFixture agent;
  auto client = agent.Client();
  Status missing = agentclient::GetTarStream(client, "/no/such/dir",
                                             [](std::string_view) { return OkStatus(); },
                                             In(seconds(30)));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message() ==
        "get from '/no/such/dir' in the guest: get '/no/such/dir': not a directory");

  auto put = agentclient::PutStream::Start(client, JoinPath(agent.dir(), "d"), In(seconds(30)));
  REQUIRE(put.ok());
  REQUIRE(put->Write(std::string(1024, 'z')).ok());
  Status bad = put->Finish();
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message().find("tar failed") != std::string::npos);
  // The connection goes on working.
  CHECK(client.Health(In(seconds(10))).ok());
}

class Notes : public apply::StepProgress {
 public:
  void Note(std::string_view m) override { notes.emplace_back(m); }
  std::vector<std::string> notes;
};

TEST_CASE("file_sync through the agent keeps modes and leaves no temp files") {
  AgentFixture agent;
  const std::string home = JoinPath(agent.dir(), "home");
  WriteFile(home, "proj/run.sh", "#!/bin/sh\n");
  WriteFile(home, "proj/secret/key", "k\n");
  WriteFile(home, ".gitconfig", "[user]\n");
  REQUIRE(chmod(JoinPath(home, "proj").c_str(), 0750) == 0);
  REQUIRE(chmod(JoinPath(home, "proj/run.sh").c_str(), 0755) == 0);
  REQUIRE(chmod(JoinPath(home, "proj/secret").c_str(), 0700) == 0);
  REQUIRE(chmod(JoinPath(home, "proj/secret/key").c_str(), 0400) == 0);
  const std::string guest_root = JoinPath(agent.dir(), "guest-root");
  REQUIRE(MakeDirs(guest_root, 0700).ok());
  // An old version in place: replaced, never half-written.
  WriteFile(guest_root, "deep/er/.gitconfig", "old\n");

  specs::FileSyncSpec proj, git;
  proj.name = "proj";
  proj.host = "~/proj";
  proj.guest = "~/proj";
  git.name = "git";
  git.host = "~/.gitconfig";
  git.guest = "/root/deep/er/.gitconfig";
  git.mode = 0640;
  auto client = agent.Client();
  auto files = agentclient::AgentGuestFiles(client, std::chrono::seconds(30));
  Notes notes;
  auto synced = access::SyncFileEntries({proj, git}, {home, guest_root}, *files, notes);
  REQUIRE(synced.ok());
  CHECK(synced->at("proj") != "");
  CHECK(*ReadFile(JoinPath(guest_root, "deep/er/.gitconfig")) == "[user]\n");
  CHECK(StatOf(JoinPath(guest_root, "deep/er/.gitconfig")).mode == (S_IFREG | 0640));
  CHECK(StatOf(JoinPath(guest_root, "proj")).mode == (S_IFDIR | 0750));
  CHECK(StatOf(JoinPath(guest_root, "proj/run.sh")).mode == (S_IFREG | 0755));
  CHECK(StatOf(JoinPath(guest_root, "proj/secret")).mode == (S_IFDIR | 0700));
  CHECK(StatOf(JoinPath(guest_root, "proj/secret/key")).mode == (S_IFREG | 0400));
  CHECK(StatOf(JoinPath(guest_root, "proj/secret/key")).uid == 0);
  auto names = ListDir(JoinPath(guest_root, "deep/er"));
  REQUIRE(names.ok());
  CHECK(*names == std::vector<std::string>{".gitconfig"});
}

}  // namespace
}  // namespace banger::testing
