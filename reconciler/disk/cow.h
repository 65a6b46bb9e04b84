// Makes a VM's copy-on-write rootfs from its image's raw rootfs.ext4.
//
// The image's file is shared by every VM made from it and is never written:
// each VM writes only to its own overlay, clone or copy. The choice of
// method is ChooseCowMethod's (cow_method.h); this file carries it out.
#pragma once

#include <string>
#include <vector>

#include "reconciler/base/error.h"
#include "reconciler/disk/cow_method.h"
#include "reconciler/os/exec.h"

namespace banger::disk {

// `qemu-img create -q -f qcow2 -b <base> -F raw <dest>`. The backing format
// is given explicitly: without -F, QEMU would probe the base's format, and
// a guest that writes a qcow2 header into its raw disk could then make the
// host open arbitrary backing files.
std::vector<std::string> Qcow2OverlayArgv(const std::string& base,
                                          const std::string& dest,
                                          const std::string& base_format = "raw");

// Creates the rootfs for one VM at `dest` from the raw image `base`:
//   kQcow2    a qcow2 overlay naming the canonical absolute path of base
//             (symlinks resolved, so a later change to a symlinked image
//             path cannot swap the data under an existing overlay);
//   kReflink  a FICLONE of base; fails (FailedPrecondition) when the
//             filesystem cannot share extents, since the method was chosen
//             for it and silently copying would hide a wrong probe;
//   kCopy     a sparse copy of base.
// `dest` must not exist (kAlreadyExists otherwise) and its directory must.
// The disk is built under a temporary name and renamed when complete: on
// failure nothing is left at dest and no temporary file remains.
Status CreateCowRootfs(CowMethod method, const std::string& base, const std::string& dest,
                       CommandRunner& runner = SystemRunner());

}  // namespace banger::disk
