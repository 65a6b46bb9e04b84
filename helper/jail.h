// Firecracker under its jailer, started by the helper for the owner.
//
// The jailer has to start as root (it pivots into a chroot, makes device
// nodes there and then drops to the target uid), so the engine, running as
// the owner, cannot run it. The helper runs it, and everything that decides
// what runs as root is fixed when the helper starts (`--jailer`,
// `--firecracker`, `--jail-dir`); a request only names the VM and the
// owner's files to put into the jail, and carries the console descriptor.
//
// The jailed Firecracker runs as the owner uid and the owner's primary gid.
// The files in the jail are hard links to the owner's own kernel and disks;
// any other uid would need them chowned, which would take them from the
// owner (a hard link shares the inode). For the same reason the API socket
// Firecracker makes inside the jail belongs to the owner, and the engine
// connects to it directly.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "reconciler/base/error.h"

namespace banger::helper {

struct JailerSetup {
  std::string jailer;               // the jailer executable
  std::string firecracker;          // --exec-file
  std::string base = "/srv/jailer";  // --chroot-base-dir
};

// The binaries root is about to run must be absolute regular files owned by
// root and writable by nobody else, or anyone who can write them owns the
// host; the jailer also insists that the exec file's name contains
// "firecracker". The base must be an absolute, clean path.
Status CheckJailerSetup(const JailerSetup& setup);

// The jailer's id for a VM: "banger-<uid>-<vm>" (distinct per owner, within
// the jailer's 64 characters of [A-Za-z0-9-]).
Result<std::string> JailId(uid_t owner, const std::string& vm);

// <base>/<file name of firecracker>/<id>, where the jailer makes root/.
std::string JailDir(const JailerSetup& setup, const std::string& id);

// jailer --id ID --exec-file FC --uid U --gid G --chroot-base-dir BASE --
//   --api-sock /firecracker.sock
std::vector<std::string> JailerArgv(const JailerSetup& setup, const std::string& id, uid_t uid,
                                    gid_t gid);

// One file to put into the jail: its name inside and the owner's file.
struct JailFile {
  std::string name;
  std::string host_path;
};

// Makes `dir` (which must not exist; its parents are made 0755) and
// dir/root, and hard-links each file into root. Every file must be a
// regular file owned by `owner`, reached without symlinks, and on the
// jail directory's filesystem (hard links cannot cross filesystems). On
// failure `dir` is removed again.
Status StageJail(const std::string& dir, const std::vector<JailFile>& files, uid_t owner);

// The owner's primary gid from passwd, or the uid itself when passwd does
// not know the owner.
gid_t OwnerGid(uid_t owner);

}  // namespace banger::helper
