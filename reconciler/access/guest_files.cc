#include "reconciler/access/guest_files.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <libssh2_sftp.h>

#include <cstdio>

#include "reconciler/access/remote_command.h"
#include "reconciler/os/fs.h"

namespace banger::access {
namespace {

// Over the SFTP subsystem.

struct SftpDeleter {
  void operator()(LIBSSH2_SFTP* s) const { libssh2_sftp_shutdown(s); }
};
struct HandleDeleter {
  void operator()(LIBSSH2_SFTP_HANDLE* h) const { libssh2_sftp_close_handle(h); }
};
using SftpPtr = std::unique_ptr<LIBSSH2_SFTP, SftpDeleter>;
using HandlePtr = std::unique_ptr<LIBSSH2_SFTP_HANDLE, HandleDeleter>;

std::string StatusName(unsigned long fx) {
  switch (fx) {
    case LIBSSH2_FX_NO_SUCH_FILE: return "no such file";
    case LIBSSH2_FX_PERMISSION_DENIED: return "permission denied";
    case LIBSSH2_FX_FAILURE: return "failure";
    case LIBSSH2_FX_NO_SUCH_PATH: return "no such path";
    case LIBSSH2_FX_FILE_ALREADY_EXISTS: return "file exists";
    default: return "SFTP status " + std::to_string(fx);
  }
}

class SftpGuestFiles : public GuestFiles {
 public:
  SftpGuestFiles(SshSession& session, SftpPtr sftp) : s_(session), sftp_(std::move(sftp)) {}

  Status MakeParents(const std::string& path) override {
    std::vector<std::string> missing;
    for (std::string dir = Dirname(path); dir != "/" && dir != "." && !dir.empty(); dir = Dirname(dir)) {
      LIBSSH2_SFTP_ATTRIBUTES a;
      if (libssh2_sftp_stat(sftp_.get(), dir.c_str(), &a) == 0) break;
      missing.push_back(dir);
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) BANGER_RETURN_IF_ERROR(MakeDir(*it, 0755));
    return OkStatus();
  }

  Status MakeDir(const std::string& path, mode_t mode) override {
    LIBSSH2_SFTP_ATTRIBUTES a;
    if (libssh2_sftp_stat(sftp_.get(), path.c_str(), &a) == 0) {
      if (!LIBSSH2_SFTP_S_ISDIR(a.permissions))
        return Error(Code::kFailedPrecondition, s_.label() + ": " + Quote(path) + " exists and is not a directory");
      if ((a.permissions & 07777) == mode) return OkStatus();
    } else if (libssh2_sftp_mkdir(sftp_.get(), path.c_str(), mode) != 0) {
      return Fail("mkdir " + Quote(path));
    }
    // mkdir is subject to sftp-server's umask; set the mode exactly.
    return SetMode(path, mode);
  }

  Status PutFile(const std::string& host_path, const std::string& path, mode_t mode) override {
    const std::string tmp = GuestTempPath(path);
    Status st = Upload(host_path, tmp, mode);
    if (st.ok() && libssh2_sftp_rename(sftp_.get(), tmp.c_str(), path.c_str()) != 0) {
      // OpenSSH's sftp-server renames by link+unlink, which refuses an
      // existing destination; mv is a single rename(2) that replaces it.
      st = RunRemoteChecked(s_, RemoteCommandLine({"mv", "-f", "--", tmp, path}));
    }
    if (!st.ok()) {
      libssh2_sftp_unlink(sftp_.get(), tmp.c_str());
      return std::move(st).error().WithContext("copy " + Quote(host_path) + " to " + Quote(path));
    }
    return OkStatus();
  }

 private:
  Status Upload(const std::string& host_path, const std::string& tmp, mode_t mode) {
    UniqueFd in(open(host_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!in.valid()) return Error::FromErrno("open " + Quote(host_path));
    HandlePtr h(libssh2_sftp_open(sftp_.get(), tmp.c_str(),
                                  LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_EXCL,
                                  mode & 0700));
    if (!h) return Fail("create " + Quote(tmp));
    char buf[32768];
    for (;;) {
      ssize_t n = read(in.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Error::FromErrno("read " + Quote(host_path));
      if (n == 0) break;
      for (ssize_t off = 0; off < n;) {
        ssize_t w = libssh2_sftp_write(h.get(), buf + off, static_cast<size_t>(n - off));
        if (w < 0) return Fail("write " + Quote(tmp));
        off += w;
      }
    }
    LIBSSH2_SFTP_ATTRIBUTES a{};
    a.flags = LIBSSH2_SFTP_ATTR_PERMISSIONS;
    a.permissions = mode;
    if (libssh2_sftp_fsetstat(h.get(), &a) != 0) return Fail("chmod " + Quote(tmp));
    // Closing is where the server reports a failed flush; check it.
    if (libssh2_sftp_close_handle(h.release()) != 0) return Fail("close " + Quote(tmp));
    return OkStatus();
  }

  Status SetMode(const std::string& path, mode_t mode) {
    LIBSSH2_SFTP_ATTRIBUTES a{};
    a.flags = LIBSSH2_SFTP_ATTR_PERMISSIONS;
    a.permissions = mode;
    if (libssh2_sftp_setstat(sftp_.get(), path.c_str(), &a) != 0) return Fail("chmod " + Quote(path));
    return OkStatus();
  }

  Error Fail(const std::string& what) {
    char* msg = nullptr;
    int rc = libssh2_session_last_error(s_.get(), &msg, nullptr, 0);
    if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL)
      return Error(Code::kIo, s_.label() + ": " + what + ": " + StatusName(libssh2_sftp_last_error(sftp_.get())));
    return s_.LastError(what);
  }

  SshSession& s_;
  SftpPtr sftp_;
};

// Through remote commands, for guests whose sshd has no SFTP subsystem.
// Every path is single-quoted; the only shell syntax used is the fixed
// `umask`, `>` and `&&` around them.

std::string Octal(mode_t mode) {
  char buf[8];
  snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

class ExecGuestFilesImpl : public GuestFiles {
 public:
  explicit ExecGuestFilesImpl(SshSession& session) : s_(session) {}

  Status MakeParents(const std::string& path) override {
    return RunRemoteChecked(s_, "umask 022 && " + RemoteCommandLine({"mkdir", "-p", "--", Dirname(path)}));
  }

  Status MakeDir(const std::string& path, mode_t mode) override {
    return RunRemoteChecked(s_, RemoteCommandChain({{"mkdir", "-p", "--", path},
                                                    {"chmod", Octal(mode), "--", path}}));
  }

  Status PutFile(const std::string& host_path, const std::string& path, mode_t mode) override {
    auto data = ReadFile(host_path);
    if (!data.ok()) return std::move(data).error();
    const std::string tmp = GuestTempPath(path);
    // umask 077: the temp file is private until chmod gives it its mode.
    const std::string cmd = "umask 077 && cat > " + ShellQuote(tmp) + " && " +
                            RemoteCommandChain({{"chmod", Octal(mode), "--", tmp},
                                                {"mv", "-f", "--", tmp, path}});
    Status st = RunRemoteChecked(s_, cmd, *data);
    if (!st.ok()) {
      (void)RunRemoteChecked(s_, RemoteCommandLine({"rm", "-f", "--", tmp}));
      return std::move(st).error().WithContext("copy " + Quote(host_path) + " to " + Quote(path));
    }
    return OkStatus();
  }

 private:
  SshSession& s_;
};

}  // namespace

std::string GuestTempPath(const std::string& path) {
  unsigned char r[6] = {};
  // A collision only fails the exclusive create; it never clobbers a file.
  (void)!getrandom(r, sizeof r, 0);
  char hex[13];
  for (int i = 0; i < 6; ++i) snprintf(hex + 2 * i, 3, "%02x", r[i]);
  return JoinPath(Dirname(path), "." + Basename(path) + ".banger-" + hex);
}

Result<std::unique_ptr<GuestFiles>> OpenSftpGuestFiles(SshSession& session) {
  SftpPtr sftp(libssh2_sftp_init(session.get()));
  if (!sftp) return session.LastError("start the SFTP subsystem", Code::kUnavailable);
  return std::unique_ptr<GuestFiles>(new SftpGuestFiles(session, std::move(sftp)));
}

std::unique_ptr<GuestFiles> ExecGuestFiles(SshSession& session) {
  return std::make_unique<ExecGuestFilesImpl>(session);
}

}  // namespace banger::access
