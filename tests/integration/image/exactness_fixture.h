// The tree every exactness test builds: owners 0:0 and 1000:1000, a
// setuid-root file, a setgid and a sticky directory, a symlink, a hardlink,
// a device node and a security.capability xattr. Made either as a real
// directory (needs root: chown, mknod, setxattr) or as a tarball (libarchive,
// no privilege needed), and checked inside an ext4 image with debugfs.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace banger::testing {

// security.capability granting cap_net_raw (effective + permitted), v2.
std::string NetRawCapability();

// Creates the tree under `dir` (which must exist). Requires root.
void MakeExactnessDir(const std::string& dir);

// Writes the tree as a pax tarball. Works unprivileged.
void MakeExactnessTarball(const std::string& path);

// Asserts (Catch CHECKs) that `image` holds the tree exactly.
void CheckExactnessImage(const std::string& image);

// The unprivileged account tests run builds as (created when missing).
struct TestUser {
  uid_t uid;
  gid_t gid;
};
TestUser UnprivilegedTestUser();

// Makes `path` owned by the test user (recursively not needed: dirs only).
void GiveToTestUser(const std::string& path);

// Runs this test binary's test case `test_name` as the unprivileged user
// with `env` added to a minimal environment; returns its exit code and
// forwards its output on failure via INFO.
int RunTestCaseUnprivileged(const std::string& test_name, const std::vector<std::string>& env);

}  // namespace banger::testing
