// What `ps` shows for a process that forked from the CLI and never exec'd.
//
// A forked helper (the console logger) otherwise keeps the command line of
// the CLI that started it for its whole life, so `ps` lists it as the
// `banger apply -f web.toml` of hours ago. Linux has no call to change
// /proc/PID/cmdline: a process rewrites the memory the kernel reports, the
// argv strings at the top of its stack. Like setproctitle(3), the area is
// extended over the environment strings that follow argv, after moving the
// environment to the heap so nothing reads it from there any more.
#pragma once

namespace banger {

// Records the argv/environ string area and moves the environment strings to
// the heap (environ is repointed; getenv/setenv keep working). Call once,
// first thing in main, before any thread starts; later calls do nothing.
// Without it SetProcessTitle changes only the short name.
void InitProcessTitle(int argc, char** argv);

// Sets /proc/self/cmdline (what `ps -o args` shows) to `title`, truncated to
// the recorded area, and /proc/self/comm (`ps -o comm`, `top`) to the first
// 15 bytes of `comm`. Async-signal-safe: meant for a forked child. The
// CLI's own argv strings are overwritten, so the caller must not use them
// afterwards.
void SetProcessTitle(const char* title, const char* comm);

// The number of bytes available for a title (0 before InitProcessTitle).
unsigned long ProcessTitleCapacity();

}  // namespace banger
