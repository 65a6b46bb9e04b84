// The work seed: what a VM's /root work disk starts with.
//
// /root is a separate disk in every VM (the initramfs mounts banger.work=
// there), so the image's own /root content moves out of the rootfs into a
// small ext4 image, work-seed.ext4, from which VM work disks are cloned.
// The rootfs keeps an empty root-owned /root (0700) as the mount point.
#pragma once

#include "reconciler/base/error.h"
#include "reconciler/image/rootfs_tree.h"

namespace banger::image {

// Moves rootfs:/root's content into `seed` (an empty staging tree) with its
// metadata. When /root held nothing, /etc/skel's .bashrc and .profile are
// copied instead. The seed's root directory is root:root 0700.
Status SplitWorkSeed(RootfsTree& rootfs, RootfsTree& seed);

}  // namespace banger::image
