#include "reconciler/os/file_watcher.h"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "reconciler/os/fs.h"

namespace banger {
namespace {

constexpr uint32_t kMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
                           IN_DELETE | IN_ATTRIB;

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Result<FileWatcher> FileWatcher::Create(const std::vector<std::string>& paths) {
  FileWatcher w;
  w.fd_.Reset(inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!w.fd_.valid()) return Error::FromErrno("inotify_init1");
  for (const auto& p : paths) {
    Watch watch;
    if (IsDirectory(p)) {
      watch.dir = p;
    } else {
      watch.dir = Dirname(p);
      watch.file = Basename(p);
    }
    watch.wd = inotify_add_watch(w.fd_.get(), watch.dir.c_str(), kMask);
    if (watch.wd < 0) return Error::FromErrno("watch " + Quote(watch.dir));
    w.watches_.push_back(watch);
  }
  return w;
}

Result<bool> FileWatcher::ReadEvents() {
  alignas(inotify_event) char buf[16384];
  bool matched = false;
  for (;;) {
    ssize_t n = read(fd_.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EAGAIN) return matched;
      if (errno == EINTR) continue;
      return Error::FromErrno("read inotify events");
    }
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<inotify_event*>(p);
      p += sizeof(inotify_event) + ev->len;
      if (ev->len == 0) continue;
      const std::string name(ev->name);
      for (const auto& w : watches_) {
        if (w.wd != ev->wd) continue;
        if (w.file.empty() ? EndsWith(name, ".toml") : name == w.file) matched = true;
      }
    }
  }
}

Result<WatchWake> FileWatcher::WaitForChange(std::chrono::milliseconds debounce, int stop_fd,
                                             std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  bool pending = false;
  for (;;) {
    pollfd fds[2] = {{fd_.get(), POLLIN, 0}, {stop_fd, POLLIN, 0}};
    int wait_ms = pending ? static_cast<int>(debounce.count()) : -1;
    if (!pending && timeout.count() >= 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return WatchWake::kTimedOut;
      wait_ms = static_cast<int>(left.count());
    }
    int r = poll(fds, stop_fd >= 0 ? 2 : 1, wait_ms);
    if (r < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno("poll inotify");
    }
    if (r == 0) {
      if (pending) return WatchWake::kChanged;  // quiet for `debounce` after a change
      continue;                                 // the deadline check above ends the wait
    }
    if (stop_fd >= 0 && (fds[1].revents & POLLIN)) return WatchWake::kStopped;
    if (fds[0].revents & POLLIN) {
      BANGER_ASSIGN_OR_RETURN(bool matched, ReadEvents());
      pending = pending || matched;
    }
  }
}

}  // namespace banger
