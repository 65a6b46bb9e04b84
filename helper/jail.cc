#include "helper/jail.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helper/owner_paths.h"
#include "helper/protocol/names.h"
#include "helper/protocol/protocol.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/unique_fd.h"

namespace banger::helper {

namespace {

Status CheckRootBinary(const std::string& flag, const std::string& path) {
  std::string what = flag + " " + Quote(path);
  if (auto st = ValidateCleanAbsolutePath(path); !st.ok()) return st.error().WithContext(flag);
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return Error::FromErrno(what);
  if (!S_ISREG(st.st_mode)) return InvalidArgument(what + ": not a regular file");
  if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return Error(Code::kPermissionDenied,
                 what + ": root runs it, so it must belong to root and be writable by "
                        "nobody else");
  }
  if ((st.st_mode & S_IXUSR) == 0) return InvalidArgument(what + ": not executable");
  return OkStatus();
}

}  // namespace

Status CheckJailerSetup(const JailerSetup& setup) {
  BANGER_RETURN_IF_ERROR(CheckRootBinary("--jailer", setup.jailer));
  BANGER_RETURN_IF_ERROR(CheckRootBinary("--firecracker", setup.firecracker));
  if (Basename(setup.firecracker).find("firecracker") == std::string::npos) {
    return InvalidArgument("--firecracker " + Quote(setup.firecracker) +
                           ": the jailer runs only a file whose name contains 'firecracker'");
  }
  if (auto st = ValidateCleanAbsolutePath(setup.base); !st.ok()) {
    return st.error().WithContext("--jail-dir");
  }
  if (setup.base == "/") return InvalidArgument("--jail-dir: must not be '/'");
  return OkStatus();
}

Result<std::string> JailId(uid_t owner, const std::string& vm) {
  BANGER_RETURN_IF_ERROR(ValidateVmName(vm));
  std::string id = "banger-" + std::to_string(owner) + "-" + vm;
  bool ok = id.size() <= 64;
  for (char c : id) ok = ok && (isalnum(static_cast<unsigned char>(c)) || c == '-');
  if (!ok) {
    return InvalidArgument("jail id " + Quote(id) +
                           ": the jailer takes at most 64 letters, digits and '-'");
  }
  return id;
}

std::string JailDir(const JailerSetup& setup, const std::string& id) {
  return JoinPath(JoinPath(setup.base, Basename(setup.firecracker)), id);
}

std::vector<std::string> JailerArgv(const JailerSetup& setup, const std::string& id, uid_t uid,
                                    gid_t gid) {
  return {setup.jailer,
          "--id", id,
          "--exec-file", setup.firecracker,
          "--uid", std::to_string(uid),
          "--gid", std::to_string(gid),
          "--chroot-base-dir", setup.base,
          "--",
          "--api-sock", std::string("/") + kJailApiSocket};
}

Status StageJail(const std::string& dir, const std::vector<JailFile>& files, uid_t owner) {
  std::string what = "stage jail " + Quote(dir);
  BANGER_RETURN_IF_ERROR(MakeDirs(Dirname(dir), 0755));
  if (mkdir(dir.c_str(), 0755) != 0) {
    if (errno == EEXIST) {
      return Error(Code::kAlreadyExists, what + ": it exists and the helper has no record of it");
    }
    return Error::FromErrno(what);
  }
  auto fail = [&](Error error) -> Status {
    (void)RemoveTree(dir);
    return error;
  };
  const std::string root = JoinPath(dir, "root");
  // Root-owned until the jailer hands it to the jailed uid.
  if (mkdir(root.c_str(), 0755) != 0) return fail(Error::FromErrno(what + ": make root"));
  UniqueFd root_fd(open(root.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!root_fd.valid()) return fail(Error::FromErrno(what + ": open root"));

  for (const JailFile& file : files) {
    std::string link_what = what + ": link " + Quote(file.host_path);
    auto src = OpenNoSymlinks(file.host_path, O_PATH);
    if (!src.ok()) return fail(src.error().WithContext(what));
    struct stat st {};
    if (fstat(src->get(), &st) != 0) return fail(Error::FromErrno(link_what));
    if (!S_ISREG(st.st_mode)) {
      return fail(Error(Code::kPermissionDenied, link_what + ": not a regular file"));
    }
    if (st.st_uid != owner) {
      return fail(Error(Code::kPermissionDenied,
                        link_what + ": the file belongs to uid " + std::to_string(st.st_uid) +
                            ", not the owner " + std::to_string(owner)));
    }
    // Linking the descriptor that was checked, not the path again, so the
    // file cannot be swapped in between.
    if (linkat(src->get(), "", root_fd.get(), file.name.c_str(), AT_EMPTY_PATH) != 0) {
      if (errno == EXDEV) {
        return fail(Error(Code::kFailedPrecondition,
                          link_what + ": it is on another filesystem than the jail directory "
                                      "(hard links cannot cross filesystems); start the "
                                      "helper with --jail-dir on the filesystem of banger's "
                                      "state directory",
                          EXDEV));
      }
      return fail(Error::FromErrno(link_what));
    }
  }
  return OkStatus();
}

gid_t OwnerGid(uid_t owner) {
  passwd pw{};
  passwd* found = nullptr;
  char buf[4096];
  if (getpwuid_r(owner, &pw, buf, sizeof buf, &found) == 0 && found != nullptr) {
    return found->pw_gid;
  }
  return static_cast<gid_t>(owner);
}

}  // namespace banger::helper
