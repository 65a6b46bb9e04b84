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

}  // namespace banger::image
