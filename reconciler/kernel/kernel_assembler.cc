#include "reconciler/kernel/kernel_assembler.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "reconciler/kernel/bzimage.h"
#include "reconciler/kernel/embedded_init.h"
#include "reconciler/kernel/initramfs.h"
#include "reconciler/kernel/kernel_modules.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/unique_fd.h"

namespace banger::kernel {
namespace {

bool IsElf(const std::string& data) { return data.compare(0, 4, "\x7f" "ELF") == 0; }

// Copies a module tree as it is: directories, regular files, and symlinks
// as symlinks with the same target text. A kernel build's `build` and
// `source` links point at the build host's headers; they are kept for
// fidelity and never followed (the iterator does not descend into them and
// symlink_status does not resolve them).
Status CopyModuleTree(const std::string& from, const std::string& to) {
  namespace fs = std::filesystem;
  BANGER_RETURN_IF_ERROR(MakeDirs(to));
  std::error_code ec;
  fs::recursive_directory_iterator it(from, ec), end;
  if (ec) return Error(Code::kIo, "scan " + Quote(from) + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return Error(Code::kIo, "scan " + Quote(from) + ": " + ec.message());
    const std::string path = it->path().string();
    fs::file_status st = it->symlink_status(ec);
    if (ec) return Error(Code::kIo, "stat " + Quote(path) + ": " + ec.message());
    // Lexically: fs::relative would resolve the link it is asked about.
    std::string rel = it->path().lexically_relative(from).generic_string();
    const std::string dest = JoinPath(to, rel);
    if (fs::is_symlink(st)) {
      fs::path target = fs::read_symlink(it->path(), ec);
      if (ec) return Error(Code::kIo, "readlink " + Quote(path) + ": " + ec.message());
      if (::symlink(target.c_str(), dest.c_str()) != 0) {
        return Error::FromErrno("symlink " + Quote(dest));
      }
    } else if (fs::is_directory(st)) {
      BANGER_RETURN_IF_ERROR(MakeDirs(dest));
    } else if (fs::is_regular_file(st)) {
      BANGER_RETURN_IF_ERROR(CopyFile(path, dest));
    }
  }
  return OkStatus();
}

// Whether `rel` below `root` is a directory reached without passing
// through a symlink: an unpacked package is hostile when it came from a
// URL, and `lib -> /` must not turn into a scan of the host.
bool IsRealDirectoryBelow(const std::string& root, const std::string& rel) {
  std::string path = root;
  size_t start = 0;
  while (start < rel.size()) {
    size_t slash = rel.find('/', start);
    if (slash == std::string::npos) slash = rel.size();
    path = JoinPath(path, rel.substr(start, slash - start));
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return false;
    start = slash + 1;
  }
  return true;
}

// "lib/modules/<release>" inside an unpacked package (or usr/lib/modules
// on merged-/usr layouts).
Result<std::string> FindModuleRoot(const std::string& root) {
  for (const char* base : {"lib/modules", "usr/lib/modules"}) {
    std::string dir = JoinPath(root, base);
    if (!IsRealDirectoryBelow(root, base)) continue;
    BANGER_ASSIGN_OR_RETURN(auto names, ListDir(dir));
    if (names.size() == 1) {
      if (!IsRealDirectoryBelow(dir, names[0])) {
        return Error(Code::kCorruption, Quote(JoinPath(dir, names[0])) + " is not a directory");
      }
      return JoinPath(dir, names[0]);
    }
    return Error(Code::kCorruption, Quote(dir) + " holds " + std::to_string(names.size()) +
                                        " kernel releases, expected one");
  }
  return std::string();
}

}  // namespace

Status CopyFile(const std::string& from, const std::string& to) {
  UniqueFd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) return Error::FromErrno("open " + Quote(from));
  struct stat st;
  if (::fstat(in.get(), &st) != 0) return Error::FromErrno("stat " + Quote(from));
  if (!S_ISREG(st.st_mode)) return InvalidArgument(Quote(from) + " is not a regular file");
  UniqueFd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!out.valid()) return Error::FromErrno("create " + Quote(to));
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(in.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno("read " + Quote(from));
    }
    if (n == 0) break;
    for (ssize_t done = 0; done < n;) {
      ssize_t w = ::write(out.get(), buf + done, static_cast<size_t>(n - done));
      if (w < 0) {
        if (errno == EINTR) continue;
        return Error::FromErrno("write " + Quote(to));
      }
      done += w;
    }
  }
  if (::fsync(out.get()) != 0) return Error::FromErrno("fsync " + Quote(to));
  return OkStatus();
}

Status KernelAssembler::PlaceKernel(const std::string& kernel, const std::string& vmlinux,
                                    std::string* version) {
  BANGER_ASSIGN_OR_RETURN(std::string data, ReadFile(kernel));
  BANGER_RETURN_IF_ERROR(AtomicWriteFile(JoinPath(out_, "vmlinuz"), data));
  *version = "unknown";
  if (IsBzImage(data)) {
    if (auto rel = BzImageRelease(data); rel.ok()) *version = *rel;
  }
  if (!vmlinux.empty()) return CopyFile(vmlinux, JoinPath(out_, "vmlinux"));
  if (IsElf(data)) return AtomicWriteFile(JoinPath(out_, "vmlinux"), data);
  if (!IsBzImage(data)) {
    return InvalidArgument("kernel " + Quote(kernel) + " is neither a bzImage nor an ELF vmlinux");
  }
  // Only Firecracker needs vmlinux; a payload we cannot decompress still
  // leaves a kernel QEMU boots, so this is a note rather than a failure.
  auto elf = ExtractVmlinux(data);
  if (!elf.ok()) {
    note_("no vmlinux for " + Quote(kernel) + ": " + elf.error().message());
    return OkStatus();
  }
  return AtomicWriteFile(JoinPath(out_, "vmlinux"), *elf);
}

Status KernelAssembler::WriteGeneratedInitramfs(const std::vector<GuestModule>& modules) {
  note_("building initramfs (" + std::to_string(modules.size()) + " modules)");
  InitramfsContents contents;
  BANGER_ASSIGN_OR_RETURN(contents.busybox, packages_.StaticBusybox(scratch_));
  contents.modules = modules;
  contents.init_script = std::string(InitramfsInitScript());
  return WriteInitramfs(contents, JoinPath(out_, "initrd.img"));
}

Result<AssembledKernel> KernelAssembler::FromFiles(const KernelInputs& in) {
  AssembledKernel result;
  BANGER_RETURN_IF_ERROR(PlaceKernel(in.kernel, in.vmlinux, &result.version));
  if (!in.modules_dir.empty()) {
    BANGER_RETURN_IF_ERROR(CopyModuleTree(in.modules_dir, JoinPath(out_, "modules")));
  }
  if (!in.initrd.empty()) {
    BANGER_RETURN_IF_ERROR(CopyFile(in.initrd, JoinPath(out_, "initrd.img")));
  } else if (!in.modules_dir.empty()) {
    auto modules = CollectGuestModules(in.modules_dir, GuestModuleNames());
    if (!modules.ok()) return modules.error().WithContext("kernel modules");
    BANGER_RETURN_IF_ERROR(WriteGeneratedInitramfs(*modules));
  }
  return result;
}

Result<AssembledKernel> KernelAssembler::FromDeb(const std::string& deb_path) {
  const std::string root = JoinPath(scratch_, "deb");
  BANGER_RETURN_IF_ERROR(MakeDirs(root));
  note_("unpacking " + Basename(deb_path));
  BANGER_RETURN_IF_ERROR(packages_.Unpack(deb_path, root));
  const std::string boot = JoinPath(root, "boot");
  std::string kernel;
  if (IsRealDirectoryBelow(root, "boot")) {
    BANGER_ASSIGN_OR_RETURN(auto names, ListDir(boot));
    for (const auto& n : names) {
      if (n.compare(0, 8, "vmlinuz-") == 0) {
        if (!kernel.empty()) {
          return Error(Code::kCorruption, Quote(deb_path) + " holds more than one boot/vmlinuz-*");
        }
        kernel = JoinPath(boot, n);
      }
    }
  }
  // Read, so it must not be a link into the host (see kernel_bundle.h).
  struct stat st;
  if (!kernel.empty() && (::lstat(kernel.c_str(), &st) != 0 || !S_ISREG(st.st_mode))) {
    return Error(Code::kCorruption, Quote(deb_path) + ": " + Quote("boot/" + Basename(kernel)) +
                                        " is not a regular file (links are refused)");
  }
  if (kernel.empty()) {
    return Error(Code::kCorruption, Quote(deb_path) + " has no boot/vmlinuz-* (not a kernel package?)");
  }
  AssembledKernel result;
  BANGER_RETURN_IF_ERROR(PlaceKernel(kernel, "", &result.version));
  BANGER_ASSIGN_OR_RETURN(std::string module_root, FindModuleRoot(root));
  std::vector<GuestModule> modules;
  if (!module_root.empty()) {
    if (result.version == "unknown") result.version = Basename(module_root);
    auto collected = CollectGuestModules(module_root, GuestModuleNames());
    if (!collected.ok()) return collected.error().WithContext("kernel modules of " + Quote(deb_path));
    modules = std::move(*collected);
  }
  // Only what the guest loads is kept; the full tree is ~100 MB.
  const std::string kept = JoinPath(out_, "modules");
  BANGER_RETURN_IF_ERROR(MakeDirs(kept));
  for (const auto& m : modules) {
    BANGER_RETURN_IF_ERROR(AtomicWriteFile(JoinPath(kept, m.name + ".ko"), m.elf));
  }
  BANGER_RETURN_IF_ERROR(WriteGeneratedInitramfs(modules));
  return result;
}

}  // namespace banger::kernel
