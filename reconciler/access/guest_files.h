// Writing files into a running guest over an open session. Two ways behind
// one interface: SFTP (Debian's sshd ships the subsystem) and, for guests
// without it, `cat` with the content on stdin. Both write a temp file next
// to the destination, set its mode and owner (root), then rename it over
// the destination, so the guest never sees a half-written file.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "reconciler/access/ssh_session.h"
#include "reconciler/base/error.h"

namespace banger::access {

class GuestFiles {
 public:
  virtual ~GuestFiles() = default;
  // Creates the missing directories above `path` (0755, root). The topmost
  // existing one is left as it is.
  virtual Status MakeParents(const std::string& path) = 0;
  // Makes `path` a directory with exactly `mode`, owned by root.
  virtual Status MakeDir(const std::string& path, mode_t mode) = 0;
  // Replaces `path` with the content of the host file, with exactly `mode`,
  // owned by root.
  virtual Status PutFile(const std::string& host_path, const std::string& path, mode_t mode) = 0;
};

// Opens the SFTP subsystem on `session` (which must outlive the result).
// Fails with kUnavailable when the server has no SFTP subsystem.
Result<std::unique_ptr<GuestFiles>> OpenSftpGuestFiles(SshSession& session);

// The `cat`/`mkdir`/`chmod`/`mv` fallback: one remote command per call.
std::unique_ptr<GuestFiles> ExecGuestFiles(SshSession& session);

// A temp name in the same directory as `path`: ".<base>.banger-<random>".
std::string GuestTempPath(const std::string& path);

}  // namespace banger::access
