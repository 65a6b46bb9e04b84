// FileImageStore end to end on a `dir` source: staging, two ext4 images,
// manifest, one-rename publish, list/show/remove, and failure injection.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "reconciler/disk/debugfs.h"
#include "reconciler/image/file_image_store.h"
#include "reconciler/os/fs.h"
#include "tests/support/test_env.h"

using namespace banger;
using namespace banger::image;

namespace {

// Delegates to the real runner but fails the n-th run of one program, the
// way a crash or a full disk would in the middle of a build.
class FailingRunner : public CommandRunner {
 public:
  FailingRunner(std::string program, int fail_on_call)
      : program_(std::move(program)), fail_on_(fail_on_call) {}
  Result<ExecResult> Run(const ExecRequest& req) override {
    if (!req.argv.empty() && req.argv[0] == program_ && ++calls_ == fail_on_) {
      ExecResult r;
      r.exit_code = 1;
      r.err = "injected failure";
      return r;
    }
    return SystemRunner().Run(req);
  }

 private:
  std::string program_;
  int fail_on_;
  int calls_ = 0;
};

struct StoreFixture {
  TempDir dir = testing::ScratchDir("banger-store-");
  std::string images() const { return dir.path() + "/images"; }
  std::string staging() const { return dir.path() + "/staging"; }
  std::string source() const { return dir.path() + "/src"; }

  StoreFixture() {
    testing::WriteFile(source(), "etc/os-release", "ID=test\n");
    testing::WriteFile(source(), "etc/ssh/ssh_host_rsa_key", "shared secret\n");
    testing::WriteFile(source(), "etc/skel/.profile", "skel\n");
    testing::WriteFile(source(), "root/.bashrc", "root's bashrc\n");
    testing::WriteFile(source(), "usr/lib/systemd/system/ssh.service", "[Unit]\n");
  }

  FileImageStore Store(CommandRunner* runner = nullptr) {
    ImageStoreOptions opts;
    opts.images_dir = images();
    opts.staging_dir = staging();
    opts.runner = runner;
    opts.now = [] { return int64_t{1700000000}; };
    return FileImageStore(opts, BuiltinImageSources(SourceOptions{dir.path() + "/cache", runner}));
  }

  specs::ImageSpec Spec(const std::string& name = "base") const {
    specs::ImageSpec spec;
    spec.name = name;
    spec.source = specs::ImageSource::kDir;
    spec.dir = source();
    return spec;
  }

  size_t Count(const std::string& d) const {
    auto names = ListDir(d);
    return names.ok() ? names->size() : 0;
  }
};

}  // namespace

TEST_CASE("a dir image is built, published once and readable") {
  StoreFixture f;
  FileImageStore store = f.Store();
  apply::NullProgress progress;
  auto rec = store.Build(f.Spec(), progress);
  INFO((rec.ok() ? "" : rec.error().message()));
  REQUIRE(rec.ok());
  CHECK(rec->spec == f.Spec());
  CHECK(rec->digest.rfind("sha256:", 0) == 0);
  CHECK(Dirname(rec->dir) == f.images());
  CHECK(Basename(rec->dir).rfind("base-", 0) == 0);
  CHECK(rec->created_unix == 1700000000);
  CHECK(store.Present(*rec));
  CHECK(f.Count(f.staging()) == 0);
  CHECK(*ListDir(rec->dir) == std::vector<std::string>{"manifest.json", "rootfs.ext4", "work-seed.ext4"});
  struct stat st;
  REQUIRE(stat(RootfsPath(*rec).c_str(), &st) == 0);
  CHECK(static_cast<uint64_t>(st.st_size) == rec->rootfs_bytes);

  disk::Debugfs rootfs(RootfsPath(*rec), SystemRunner());
  CHECK(*rootfs.ReadFile("/etc/os-release") == "ID=test\n");
  CHECK_FALSE(rootfs.Stat("/etc/ssh/ssh_host_rsa_key")->has_value());
  CHECK(rootfs.Stat("/etc/ssh/sshd_config.d/banger.conf")->has_value());
  CHECK((*rootfs.Stat("/usr/lib/banger/net-bootstrap.sh"))->mode == (S_IFREG | 0755));
  CHECK(rootfs.Stat("/etc/systemd/system/multi-user.target.wants/ssh.service")->has_value());
  auto root_dir = rootfs.Stat("/root");
  CHECK((*root_dir)->mode == (S_IFDIR | 0700));
  CHECK_FALSE(rootfs.Stat("/root/.bashrc")->has_value());

  disk::Debugfs seed(WorkSeedPath(*rec), SystemRunner());
  CHECK(*seed.ReadFile("/.bashrc") == "root's bashrc\n");
  auto seed_root = seed.Stat("/");
  CHECK((*seed_root)->mode == (S_IFDIR | 0700));
  CHECK((*seed_root)->uid == 0);

  auto listed = store.List();
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().name() == "base");
  CHECK(listed->front().digest == rec->digest);
  CHECK(listed->front().rootfs_bytes == rec->rootfs_bytes);
  auto shown = store.Show("base");
  REQUIRE(shown.ok());
  CHECK(shown->dir == rec->dir);
  CHECK(store.Show("other").error().code() == Code::kNotFound);

  // Same content, same identity; a change moves it.
  auto again = store.Build(f.Spec(), progress);
  REQUIRE(again.ok());
  CHECK(again->digest == rec->digest);
  CHECK(again->dir != rec->dir);
  testing::WriteFile(f.source(), "etc/os-release", "ID=changed\n");
  CHECK(store.sources().Find(f.Spec()).value()->Identity(f.Spec()).value() != rec->digest);

  REQUIRE(store.Remove(*rec).ok());
  CHECK_FALSE(store.Present(*rec));
  CHECK_FALSE(PathExists(rec->dir));
  CHECK(store.Present(*again));
  REQUIRE(store.Remove(*rec).ok());  // already gone is fine
  model::ImageRecord outside = *rec;
  outside.dir = f.source();
  CHECK_FALSE(store.Remove(outside).ok());
  CHECK(PathExists(f.source()));
  CHECK(f.Count(f.staging()) == 0);
}

TEST_CASE("a build failing mid-way leaves nothing staged or published") {
  StoreFixture f;
  // 1st debugfs run: rootfs metadata; 2nd: the work seed's.
  for (const auto& [program, call] : std::vector<std::pair<std::string, int>>{
           {"mkfs.ext4", 1}, {"debugfs", 1}, {"mkfs.ext4", 2}, {"debugfs", 2}}) {
    DYNAMIC_SECTION(program << " call " << call) {
      FailingRunner runner(program, call);
      FileImageStore store = f.Store(&runner);
      apply::NullProgress progress;
      auto rec = store.Build(f.Spec(), progress);
      REQUIRE_FALSE(rec.ok());
      CHECK(rec.error().message().rfind("build image 'base': ", 0) == 0);
      CHECK(rec.error().message().find("injected failure") != std::string::npos);
      CHECK(f.Count(f.staging()) == 0);
      CHECK(f.Count(f.images()) == 0);
    }
  }
}

TEST_CASE("a size too small for the content is refused naming the image") {
  StoreFixture f;
  testing::WriteFile(f.source(), "big", std::string(20u << 20, 'x'));
  FileImageStore store = f.Store();
  specs::ImageSpec spec = f.Spec("small");
  spec.size = 16u << 20;
  apply::NullProgress progress;
  auto rec = store.Build(spec, progress);
  REQUIRE_FALSE(rec.ok());
  CHECK(rec.error().code() == Code::kInvalidArgument);
  CHECK(rec.error().message().find("image 'small': content needs at least") != std::string::npos);
  CHECK(rec.error().message().find("but size is 16 MiB") != std::string::npos);
  CHECK(f.Count(f.staging()) == 0);
  CHECK(f.Count(f.images()) == 0);

  spec.size = 512u << 20;
  auto ok = store.Build(spec, progress);
  REQUIRE(ok.ok());
  CHECK(ok->rootfs_bytes == 512u << 20);
}

TEST_CASE("a missing source directory fails before anything is staged") {
  StoreFixture f;
  FileImageStore store = f.Store();
  specs::ImageSpec spec = f.Spec();
  spec.dir = f.dir.path() + "/missing";
  apply::NullProgress progress;
  auto rec = store.Build(spec, progress);
  REQUIRE_FALSE(rec.ok());
  CHECK(rec.error().code() == Code::kNotFound);
  CHECK(rec.error().message().find("'" + spec.dir + "'") != std::string::npos);
  CHECK(f.Count(f.staging()) == 0);
}
