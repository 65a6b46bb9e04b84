// One real Debian bookworm image (minbase + openssh-server, iproute2) built
// through the image store. The debootstrap tree is cached under
// $BANGER_CACHE_DIR (default /var/cache/banger-test), so only the first run
// on a machine pays for the bootstrap; the second build here always comes
// from the cache.
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <catch2/catch.hpp>
#include <cstdlib>

#include "reconciler/disk/debugfs.h"
#include "reconciler/image/debootstrap_source.h"
#include "reconciler/image/file_image_store.h"
#include "reconciler/os/fs.h"
#include "tests/support/test_env.h"

using namespace banger;
using namespace banger::image;

namespace {

class RecordingProgress : public apply::StepProgress {
 public:
  void Note(std::string_view m) override { notes += std::string(m) + "\n"; }
  std::string notes;
};

std::string CacheDir() {
  const char* env = getenv("BANGER_CACHE_DIR");
  return env && *env ? env : "/var/cache/banger-test";
}

void CheckDebianImage(const model::ImageRecord& rec, const std::string& staging_root) {
  disk::Debugfs fs(RootfsPath(rec), SystemRunner());
  struct Want {
    const char* path;
    uint32_t mode, uid, gid;
  };
  for (const Want& w : {Want{"/usr/bin/passwd", S_IFREG | 04755, 0, 0},
                        Want{"/etc/shadow", S_IFREG | 0640, 0, 42},
                        Want{"/var/mail", S_IFDIR | 02775, 0, 8},
                        Want{"/tmp", S_IFDIR | 01777, 0, 0},
                        Want{"/dev", S_IFDIR | 0755, 0, 0},
                        Want{"/proc", S_IFDIR | 0555, 0, 0},
                        Want{"/root", S_IFDIR | 0700, 0, 0},
                        Want{"/etc/machine-id", S_IFREG | 0444, 0, 0},
                        Want{"/usr/lib/banger/net-bootstrap.sh", S_IFREG | 0755, 0, 0},
                        Want{"/etc/ssh/sshd_config.d/banger.conf", S_IFREG | 0644, 0, 0}}) {
    INFO(w.path);
    auto info = fs.Stat(w.path);
    REQUIRE(info.ok());
    REQUIRE(info->has_value());
    CHECK((*info)->mode == w.mode);
    CHECK((*info)->uid == w.uid);
    CHECK((*info)->gid == w.gid);
  }
  auto null = fs.Stat("/dev/null");
  REQUIRE(null.ok());
  REQUIRE(null->has_value());
  CHECK((*null)->mode == (S_IFCHR | 0666));
  CHECK((*null)->rdev == makedev(1, 3));

  // fakechroot's leftovers are gone.
  CHECK_FALSE(fs.Stat("/usr/sbin/ldconfig.REAL")->has_value());
  CHECK((*fs.Stat("/usr/sbin/ldconfig"))->size > 100000);
  CHECK(fs.ReadFile("/var/lib/dpkg/diversions")->find("fakechroot") == std::string::npos);
  disk::DebugfsScript s;
  s.Stat("/etc/localtime");
  auto link = fs.Run(s, false);
  REQUIRE(link.ok());
  CHECK(link->find("Fast link dest: \"/usr/share/zoneinfo/") != std::string::npos);
  CHECK(link->find(staging_root) == std::string::npos);

  // Assets and per-VM identity.
  for (const char* p : {"/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_ed25519_key",
                        "/etc/ssh/ssh_host_ecdsa_key.pub"}) {
    CHECK_FALSE(fs.Stat(p)->has_value());
  }
  CHECK((*fs.Stat("/etc/machine-id"))->size == 0);
  for (const char* p : {"/etc/systemd/system/multi-user.target.wants/ssh.service",
                        "/etc/systemd/system/multi-user.target.wants/banger-net.service",
                        "/etc/systemd/system/multi-user.target.wants/banger-hostkeys.service",
                        "/etc/systemd/system/multi-user.target.wants/banger-ready.service",
                        "/etc/systemd/system/sysinit.target.wants/banger-ldconfig.service",
                        "/usr/sbin/sshd", "/usr/bin/ip", "/usr/bin/ssh-keygen"}) {
    INFO(p);
    CHECK(fs.Stat(p)->has_value());
  }
  disk::Debugfs seed(WorkSeedPath(rec), SystemRunner());
  CHECK(seed.ReadFile("/.bashrc").ok());
  CHECK((*seed.Stat("/"))->mode == (S_IFDIR | 0700));
}

}  // namespace

TEST_CASE("debootstrap bookworm image, then the same recipe from the cache") {
  TempDir dir = testing::ScratchDir("banger-deb-");
  ImageStoreOptions opts;
  opts.images_dir = dir.path() + "/images";
  opts.staging_dir = dir.path() + "/staging";
  FileImageStore store(opts, BuiltinImageSources(SourceOptions{CacheDir(), nullptr}));
  specs::ImageSpec spec;
  spec.name = "bookworm";
  spec.source = specs::ImageSource::kDebootstrap;
  spec.suite = "bookworm";
  spec.include = {"openssh-server", "iproute2"};

  RecordingProgress first;
  auto rec = store.Build(spec, first);
  INFO((rec.ok() ? "" : rec.error().message()));
  REQUIRE(rec.ok());
  DebootstrapSource source(CacheDir(), SystemRunner());
  CHECK(PathExists(source.CachePath(spec)));
  CHECK(rec->digest == "sha256:" + DebootstrapRecipeKey(spec));
  CheckDebianImage(*rec, opts.staging_dir);

  RecordingProgress second;
  auto cached = store.Build(spec, second);
  REQUIRE(cached.ok());
  CHECK(second.notes.find("using cached debootstrap tree") != std::string::npos);
  CHECK(cached->digest == rec->digest);
  CheckDebianImage(*cached, opts.staging_dir);
  auto names = ListDir(opts.staging_dir);
  CHECK(names->empty());
}
