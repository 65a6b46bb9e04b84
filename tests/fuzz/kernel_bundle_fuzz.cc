// The kernel bundle reader (a .tar.zst fetched from a URL) on arbitrary
// archives, uncompressed or compressed. Properties: no crash or sanitizer
// report; nothing appears or vanishes next to the destination; the files
// banger boots from (kernel, initrd, vmlinux) and modules/ are, when
// reported, real files and a real directory inside the destination.
#include <sys/stat.h>

#include <cstdint>
#include <string>

#include "reconciler/kernel/kernel_bundle.h"
#include "reconciler/os/fs.h"
#include "tests/fuzz/fuzz_support.h"

using namespace banger;

namespace {

void ExpectInside(const std::string& dest, const std::string& path, bool directory) {
  if (path.empty()) return;
  if (path.compare(0, dest.size() + 1, dest + "/") != 0 ||
      path.find("/../") != std::string::npos)
    fuzz::Fail("bundle path outside the destination: " + path);
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) fuzz::Fail("bundle path missing: " + path);
  if (directory ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
    fuzz::Fail("bundle path of the wrong type (a link?): " + path);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string archive = fuzz::WriteInput("bundle.tar.zst", fuzz::AsView(data, size));
  std::string dest = JoinPath(fuzz::Scratch(), "dest");
  if (!RemoveTree(dest).ok() || !MakeDirs(dest, 0755).ok()) fuzz::Fail("reset " + dest);
  std::vector<std::string> expected_outside = fuzz::Children(fuzz::Scratch());

  kernel::BundleLimits limits;
  limits.max_bytes = 4 << 20;
  limits.max_entries = 4096;
  Result<kernel::KernelBundle> bundle = kernel::ExtractKernelBundle(archive, dest, limits);

  if (fuzz::Children(fuzz::Scratch()) != expected_outside)
    fuzz::Fail("an entry appeared or vanished next to the destination");
  if (!bundle.ok()) {
    if (bundle.error().message().empty()) fuzz::Fail("refusal without a message");
    return 0;
  }
  ExpectInside(dest, bundle->kernel, false);
  ExpectInside(dest, bundle->initrd, false);
  ExpectInside(dest, bundle->vmlinux, false);
  ExpectInside(dest, bundle->modules_dir, true);
  if (bundle->kernel.empty()) fuzz::Fail("a bundle without a kernel was accepted");
  return 0;
}
