// Watches spec files and directories for saves (inotify).
//
// Editors save in different ways: write in place, or write a temp file and
// rename it over the original (which replaces the inode, so watching the
// file itself would go deaf). So the watcher watches the containing
// directories and matches names: a watched file by its name, a watched
// directory by any "*.toml" entry, including files added later.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "reconciler/base/error.h"
#include "reconciler/os/unique_fd.h"

namespace banger {

// Why WaitForChange returned.
enum class WatchWake { kChanged, kStopped, kTimedOut };

class FileWatcher {
 public:
  static Result<FileWatcher> Create(const std::vector<std::string>& paths);

  // Blocks until a relevant change happened and no further change arrived for
  // `debounce` (kChanged), `stop_fd` became readable (kStopped), or, with a
  // non-negative `timeout`, that long passed without a change (kTimedOut).
  Result<WatchWake> WaitForChange(std::chrono::milliseconds debounce, int stop_fd,
                                  std::chrono::milliseconds timeout = std::chrono::milliseconds(-1));

 private:
  struct Watch {
    int wd;
    std::string dir;
    std::string file;  // empty: any *.toml in dir
  };
  FileWatcher() = default;
  // Drains pending events; true when one matched.
  Result<bool> ReadEvents();

  UniqueFd fd_;
  std::vector<Watch> watches_;
};

}  // namespace banger
