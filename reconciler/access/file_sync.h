// Copying file_sync entries from the host into a running guest: the walk
// over the host path and the mapping of guest paths, independent of how the
// bytes travel (GuestFiles).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "reconciler/access/guest_files.h"
#include "reconciler/apply/effects.h"
#include "specs/desired.h"

namespace banger::access {

struct SyncRoots {
  std::string home;                // the host user's home, for `~` in host paths
  std::string guest_root = "/root";  // where the guest's /root (and `~`) is
};

// The guest path an entry's guest side maps to: "~/x" and "/root/x" become
// "<guest_root>/x". Fails for paths outside /root, as the work disk does.
Result<std::string> GuestDestination(const std::string& guest_path, const std::string& guest_root);

// Copies each entry: a file with the entry's mode (0600 when unset), a
// directory recursively with every file and directory keeping its own mode
// (symlinks and special files inside are skipped). Missing parent
// directories are created 0755. Returns per entry name the DigestHostPath of
// the host path; a missing host path is a warning on `progress` and "".
// Any other failure stops the sync with an error naming the entry.
Result<std::map<std::string, std::string>> SyncFileEntries(
    const std::vector<specs::FileSyncSpec>& entries, const SyncRoots& roots, GuestFiles& guest,
    apply::StepProgress& progress);

}  // namespace banger::access
