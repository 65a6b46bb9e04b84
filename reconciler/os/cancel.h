// Cooperative cancellation on SIGINT and SIGTERM.
//
// The handler only records the signal and writes one byte to a self-pipe;
// it never exits. Long-running work (external programs, archive loops,
// downloads, tree walks) polls CancelRequested() or waits on
// CancelWakeFd(), kills its children by PID and returns a kCancelled
// error, so every RAII owner on the way up (staging directories, temp
// files, child processes) runs before the CLI exits with 128 + signal.
//
// A second SIGINT/SIGTERM restores the default action and re-raises it:
// work that does not check for cancellation can still be stopped.
#pragma once

#include <string_view>

#include "reconciler/base/error.h"

namespace banger {

// Installs the handlers (idempotent). Until then nothing is ever cancelled.
Status InstallCancelHandlers();

// Whether a SIGINT/SIGTERM arrived (async-signal-safe read of a flag).
bool CancelRequested();

// The signal that requested cancellation, 0 when none.
int CancelSignal();

// Readable once cancellation was requested (never drained); -1 before
// InstallCancelHandlers(). For poll() loops that must wake at once.
int CancelWakeFd();

// OkStatus, or a kCancelled error "<what>: interrupted by SIGTERM".
Status CheckCancelled(std::string_view what);

// For a verb whose normal end is a signal (watch mode, stopped while it
// waits between cycles): takes the request as that end, so the exit status
// is the verb's own rather than 128 + signal.
void ConsumeCancel();

// Marks cancellation as requested by `signal` without delivering one, and
// clears it again: for tests of the code that reacts to it.
void RequestCancelForTesting(int signal);
void ClearCancelForTesting();

}  // namespace banger
