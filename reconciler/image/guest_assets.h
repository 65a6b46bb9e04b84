// What banger puts into every image so a VM boots straight to a reachable,
// key-only sshd (files under guest/rootfs, compiled into the binary):
//
//   banger-net.service + net-bootstrap.sh   network from the kernel cmdline
//   banger-hostkeys.service                 per-VM host keys (ssh-keygen -A)
//   banger-ready.service + ready.sh         BANGER-HOSTKEY/BANGER-READY lines
//   banger-ldconfig.service                 linker cache on first boot
//   /etc/ssh/sshd_config.d/banger.conf      key-only root login
//
// Injection also removes the image's SSH host keys, empties
// /etc/machine-id, enables the units and sshd, and masks serial gettys
// (which wait forever for device units) when the image has no udev.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "reconciler/base/error.h"
#include "reconciler/image/rootfs_tree.h"

namespace banger::image {

struct GuestFile {
  std::string_view image_path;   // relative to the image root
  std::string_view source_path;  // relative to the repository root
  uint32_t mode;                 // permission bits; owner root:root
  std::string_view content;      // embedded at build time
};

struct GuestLink {
  std::string image_path;  // relative to the image root
  std::string target;
};

// Every embedded file, in install order.
const std::vector<GuestFile>& GuestFiles();

// The unit enablement links for an image, given what it contains: the
// banger units always, sshd when its unit exists, masks when it lacks udev.
std::vector<GuestLink> GuestLinks(const RootfsTree& tree);

// Installs the assets into the staged tree (on disk and in its entries).
Status InjectGuestAssets(RootfsTree& tree);

// The work seed: what a VM's /root work disk starts with.
//
// /root is a separate disk in every VM (the initramfs mounts banger.work=
// there), so the image's own /root content moves out of the rootfs into a
// small ext4 image, work-seed.ext4, from which VM work disks are cloned.
// The rootfs keeps an empty root-owned /root (0700) as the mount point.
// Moves rootfs:/root's content into `seed` (an empty staging tree) with its
// metadata. When /root held nothing, /etc/skel's .bashrc and .profile are
// copied instead. The seed's root directory is root:root 0700.
Status SplitWorkSeed(RootfsTree& rootfs, RootfsTree& seed);

}  // namespace banger::image
