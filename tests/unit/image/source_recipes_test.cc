#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <catch2/catch.hpp>

#include "reconciler/image/debootstrap_source.h"
#include "reconciler/image/debootstrap_source.h"
#include "reconciler/image/file_image_store.h"
#include "reconciler/image/image_source.h"

using namespace banger;
using namespace banger::image;

TEST_CASE("fakeroot state lines give mode, owner and device per inode") {
  auto state = ParseFakerootState(
      "dev=fe00,ino=10972080,mode=104755,uid=0,gid=0,nlink=1,rdev=0\n"
      "dev=fe00,ino=10971681,mode=100640,uid=0,gid=42,nlink=1,rdev=0\n"
      "dev=6,ino=82,mode=20660,uid=0,gid=104,nlink=1,rdev=2792\n");
  REQUIRE(state.ok());
  REQUIRE(state->size() == 3);
  const FakerootInode& su = state->at({0xfe00, 10972080});
  CHECK(su.mode == (S_IFREG | 04755));
  CHECK(su.uid == 0);
  const FakerootInode& shadow = state->at({0xfe00, 10971681});
  CHECK(shadow.gid == 42);
  CHECK(shadow.mode == (S_IFREG | 0640));
  const FakerootInode& tty = state->at({6, 82});
  CHECK(tty.mode == (S_IFCHR | 0660));
  CHECK(tty.rdev == 2792);
}

TEST_CASE("a malformed fakeroot state line is reported by number") {
  auto state = ParseFakerootState(
      "dev=fe00,ino=1,mode=100644,uid=0,gid=0,nlink=1,rdev=0\n"
      "dev=fe00,ino=zz,mode=100644,uid=0,gid=0,nlink=1,rdev=0\n");
  REQUIRE_FALSE(state.ok());
  CHECK(state.error().code() == Code::kCorruption);
  CHECK(state.error().message().rfind("fakeroot state line 2: ", 0) == 0);
  CHECK_FALSE(ParseFakerootState("dev=fe00,ino=1,mode=100644\n").ok());
  CHECK(ParseFakerootState("").ok());
}

TEST_CASE("the debootstrap recipe key ignores package order and duplicates") {
  specs::ImageSpec a;
  a.name = "deb";
  a.source = specs::ImageSource::kDebootstrap;
  a.suite = "bookworm";
  a.include = {"openssh-server", "iproute2"};
  specs::ImageSpec b = a;
  b.include = {"iproute2", "openssh-server", "iproute2"};
  CHECK(DebootstrapRecipeKey(a) == DebootstrapRecipeKey(b));
  CHECK(DebootstrapRecipeKey(a).size() == 64);
  specs::ImageSpec c = a;
  c.mirror = kDefaultDebianMirror;  // the default spelled out is the same recipe
  CHECK(DebootstrapRecipeKey(a) == DebootstrapRecipeKey(c));
  c.mirror = "http://ftp.de.debian.org/debian";
  CHECK(DebootstrapRecipeKey(a) != DebootstrapRecipeKey(c));
  specs::ImageSpec d = a;
  d.suite = "trixie";
  CHECK(DebootstrapRecipeKey(a) != DebootstrapRecipeKey(d));
}

TEST_CASE("debootstrap runs rootless under fakechroot and fakeroot") {
  specs::ImageSpec spec;
  spec.suite = "bookworm";
  spec.include = {"openssh-server", "iproute2"};
  CHECK(DebootstrapArgv(spec, "/tmp/s/state", "/stage/rootfs") ==
        std::vector<std::string>{"fakechroot", "fakeroot", "-s", "/tmp/s/state", "debootstrap",
                                 "--variant=fakechroot", "--include=iproute2,openssh-server",
                                 "bookworm", "/stage/rootfs", "http://deb.debian.org/debian"});
  spec.include.clear();
  spec.mirror = "http://mirror.local/debian";
  auto argv = DebootstrapArgv(spec, "st", "r");
  CHECK(argv.back() == "http://mirror.local/debian");
  CHECK(argv.size() == 9);
}

TEST_CASE("the registry names the image when a source kind is missing") {
  ImageSourceRegistry registry;
  specs::ImageSpec spec;
  spec.name = "app";
  spec.source = specs::ImageSource::kOci;
  auto found = registry.Find(spec);
  REQUIRE_FALSE(found.ok());
  CHECK(found.error().code() == Code::kUnavailable);
  CHECK(found.error().message() == "image 'app': source 'oci' is not supported by this build");

  auto builtin = BuiltinImageSources(SourceOptions{"/nonexistent-cache", nullptr});
  spec.source = specs::ImageSource::kDebootstrap;
  CHECK(builtin.Find(spec).ok());
  spec.source = specs::ImageSource::kOci;
  CHECK_FALSE(builtin.Find(spec).ok());
}

TEST_CASE("manifests round-trip through JSON") {
  ImageManifest m;
  m.spec.name = "web";
  m.spec.source = specs::ImageSource::kTar;
  m.spec.tar = "/srv/web.tar";
  m.spec.size = 2ull << 30;
  m.digest = "sha256:abc";
  m.rootfs_bytes = 2ull << 30;
  m.work_seed_bytes = 64ull << 20;
  m.content_bytes = 12345;
  m.created_unix = 1700000000;
  auto j = ManifestToJson(m);
  CHECK(j["name"] == "web");
  CHECK(j["source"] == "tar");
  auto back = ManifestFromJson(j);
  REQUIRE(back.ok());
  CHECK(back->spec == m.spec);
  CHECK(back->digest == m.digest);
  CHECK(back->rootfs_bytes == m.rootfs_bytes);
  CHECK(back->work_seed_bytes == m.work_seed_bytes);
  CHECK(back->content_bytes == m.content_bytes);
  CHECK(back->created_unix == m.created_unix);
  j.erase("digest");
  auto bad = ManifestFromJson(j);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code() == Code::kCorruption);
}
