// What banger puts into every image so a VM boots straight to a reachable,
// key-only sshd (files under guest/rootfs, compiled into the binary):
//
//   banger-net.service + net-bootstrap.sh   network from the kernel cmdline
//   banger-hostkeys.service                 per-VM host keys (ssh-keygen -A)
//   banger-ready.service + ready.sh         BANGER-HOSTKEY/BANGER-READY lines
//   banger-ldconfig.service                 linker cache on first boot
//   banger-agent.service + banger-agent     the guest agent (guest/agent), a
//                                           static binary from this build
//   banger-firstboot.service + first-boot.sh  an SSH server installed with
//                                           the distro's package manager on
//                                           first boot when the image has none
//   poweroff.sh                             how the host asks for power off
//   /etc/ssh/sshd_config.d/banger.conf      key-only root login
//
// Images whose init is not systemd (container images have none) also get
// banger's init kit: usr/lib/banger/{init,inittab,boot.sh,shutdown.sh} and
// usr/lib/banger/bin/ applet links to the static busybox the initramfs
// copies in at boot. The initramfs runs usr/lib/banger/init in place of
// /sbin/init whenever that file exists (guest/initramfs/init).
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
  bool init_kit = false;         // only for images booted by banger's init
};

// How an image boots: its own systemd, or banger's init kit.
enum class GuestInit { kSystemd, kBanger };

// kSystemd when /sbin/init or /usr/sbin/init links to systemd.
GuestInit DetectInit(const RootfsTree& tree);

// The busybox applets linked in usr/lib/banger/bin for the init kit (last
// on its PATH: the image's own tools win).
const std::vector<std::string>& InitKitApplets();

struct GuestLink {
  std::string image_path;  // relative to the image root
  std::string target;
};

// Where every image gets the agent binary, and its bytes (embedded from
// this build's guest/agent/banger-agent).
inline constexpr const char* kGuestAgentPath = "usr/lib/banger/banger-agent";
std::string_view GuestAgentBinary();

// Every embedded file, in install order.
const std::vector<GuestFile>& GuestFiles();

// The unit enablement links for an image, given what it contains: the
// banger units always, sshd when its unit exists, masks when it lacks udev.
std::vector<GuestLink> GuestLinks(const RootfsTree& tree);

// Installs the assets into the staged tree (on disk and in its entries);
// returns which init the image will boot with.
Result<GuestInit> InjectGuestAssets(RootfsTree& tree);

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
