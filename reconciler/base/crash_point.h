// A test hook: numbered points where a process may be made to die as if
// SIGKILLed, to prove that whatever it was doing resumes on the next run.
//
// With BANGER_CRASH_AT=k in the environment, the k-th call of CrashPoint
// (counted from 1 in this process) writes "banger: crash point k: WHERE" to
// stderr and SIGKILLs the process: no destructor, atexit handler or
// buffered write runs, exactly as for a kill from outside. A value that is
// not a positive number is text: the first point whose WHERE contains it
// is the one (a test that knows the line it wants needs no listing). With
// BANGER_CRASH_TRACE set, every point writes its line and the process goes
// on, which is how a test lists the points of a clean run.
//
// The points are the apply's progress lines (each printed line is one, in
// the order printed; see ProgressPrinter). Builds configured with
// -DBANGER_CRASH_POINTS=OFF compile the hook to nothing and ignore both
// variables; the default build keeps it because `make test` runs that build.
#pragma once

#include <string_view>

namespace banger {

#ifdef BANGER_CRASH_POINTS
void CrashPoint(std::string_view where);
#else
inline void CrashPoint(std::string_view) {}
#endif

}  // namespace banger
