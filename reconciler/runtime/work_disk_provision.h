// Puts per-VM content into a work disk (/root) before the VM boots, with
// debugfs, so nothing depends on the guest being up: banger's SSH key, the
// host's git identity (only user.name and user.email; the rest of the
// guest's .gitconfig is kept), and file_sync entries. The disk must not be
// in use.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "reconciler/apply/effects.h"
#include "reconciler/os/exec.h"
#include "reconciler/runtime/git_identity.h"
#include "specs/desired.h"

namespace banger::runtime {

struct WorkDiskContent {
  std::string authorized_key;        // one line; empty: leave keys alone
  GitIdentity git_identity;          // set in /root/.gitconfig; empty: file untouched
  std::vector<specs::FileSyncSpec> file_syncs;
  std::string home;                  // host home, for `~` in host paths
};

// Maps a file_sync guest path ("/root/x" or "~/x") to its path inside the
// work disk ("/x").
Result<std::string> WorkDiskPath(const std::string& guest_path);

// Writes the content; returns, per file_sync entry, the digest of the host
// content copied ("" when the host path is missing: a warning, skipped).
Result<std::map<std::string, std::string>> ProvisionWorkDisk(
    const std::string& image, const WorkDiskContent& content, CommandRunner& runner,
    apply::StepProgress& progress);

}  // namespace banger::runtime
