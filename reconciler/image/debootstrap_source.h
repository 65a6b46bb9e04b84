// The `debootstrap` image source: a Debian root filesystem, built rootless.
//
//   fakechroot fakeroot -s STATE debootstrap --variant=fakechroot
//       --include=PKGS SUITE ROOT MIRROR
//
// works for root and ordinary users alike. Afterwards the fakeroot state
// gives the real owners, modes and device numbers (see below), and
// the leftovers of the fakechroot variant are undone: absolute symlinks that
// fakechroot prefixed with the staging path, /dev and /proc made symlinks to
// the host's, the diverted ldconfig/ldd, host files copied into /etc, the
// downloaded .debs.
//
// The finished tree is cached as a tarball with the real metadata in its
// headers under <cache>/debootstrap/<recipe sha256>.tar; a later build with
// the same suite, mirror and packages extracts it instead of bootstrapping.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <utility>
#include <vector>

#include "reconciler/base/error.h"
#include "reconciler/image/image_source.h"
#include "reconciler/image/rootfs_tree.h"

namespace banger::image {

constexpr char kDefaultDebianMirror[] = "http://deb.debian.org/debian";

// The recipe's cache key: sha256 hex of suite, mirror (defaulted) and the
// sorted, de-duplicated package list.
std::string DebootstrapRecipeKey(const specs::ImageSpec& spec);

// The argv of the bootstrap run.
std::vector<std::string> DebootstrapArgv(const specs::ImageSpec& spec,
                                         const std::string& state_file,
                                         const std::string& root);

// Undoes what the fakechroot variant leaves behind, on disk and in `tree`.
Status CleanFakechrootTree(RootfsTree& tree);

class DebootstrapSource : public ImageSourceBuilder {
 public:
  // `limits` (settings image_max_size, image_max_files) cap the unpacking
  // of a cached tree as they cap any other tarball.
  DebootstrapSource(std::string cache_dir, CommandRunner& runner, ExtractLimits limits = {})
      : cache_dir_(std::move(cache_dir)), runner_(runner), limits_(limits) {}

  // "sha256:" + the recipe key.
  Result<std::string> Identity(const specs::ImageSpec& spec) override;
  Status Populate(const specs::ImageSpec& spec, RootfsTree& tree,
                  apply::StepProgress& progress) override;

  // Where the recipe's tarball is (or would be) cached.
  std::string CachePath(const specs::ImageSpec& spec) const;

 private:
  Status Bootstrap(const specs::ImageSpec& spec, RootfsTree& tree,
                   apply::StepProgress& progress);

  std::string cache_dir_;
  CommandRunner& runner_;
  ExtractLimits limits_;
};

// fakeroot's saved state (`fakeroot -s FILE`): what a rootless build really
// meant the owners, modes and device numbers to be.
//
// Under fakeroot, chown/chmod/mknod only update faked's database, keyed by
// the file's device and inode; the files on disk keep the invoking user's
// ownership and device nodes are empty regular files. The saved file has
// one line per inode:
//   dev=<hex>,ino=<dec>,mode=<octal>,uid=<dec>,gid=<dec>,nlink=<dec>,rdev=<dec>
struct FakerootInode {
  uint32_t mode = 0;  // full st_mode
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t rdev = 0;
};

using FakerootState = std::map<std::pair<uint64_t, uint64_t>, FakerootInode>;  // (dev, ino)

// Parses a saved state; fails with kCorruption naming the bad line.
Result<FakerootState> ParseFakerootState(std::string_view text);

// Records metadata for every path under tree.root() (the root included):
// from the state when fakeroot knew the inode, else root:root with the
// on-disk mode (files fakeroot never touched appear root-owned inside it).
Status ApplyFakerootState(const FakerootState& state, RootfsTree& tree);

}  // namespace banger::image
