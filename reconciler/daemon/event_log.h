// The event log of a state dir: one JSON line per thing that happened to the
// fleet (a step started, done or failed; drift seen; a repair held back or
// made), appended by `banger apply` and by the daemon, read by
// `banger events`.
//
//   <state>/events.jsonl     the current log
//   <state>/events.jsonl.1   the previous one, kept when the log passes
//                            kRotateBytes
//
// Appends are one write(2) on an O_APPEND descriptor, so lines from the CLI
// and the daemon never interleave; rotation happens under the state dir's
// apply lock, which every writer holds.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "reconciler/apply/executor.h"
#include "reconciler/base/error.h"

namespace banger::daemon {

inline constexpr uint64_t kRotateBytes = 4ull << 20;

struct Event {
  int64_t time_ms = 0;    // unix milliseconds
  std::string source;     // "apply" or "daemon"
  std::string kind;       // "step-started", "step-done", "step-failed", "step-skipped",
                          // "drift", "held", "repaired", "repair-failed", "cycle-error", "cycle-skipped",
                          // "daemon-started", "daemon-stopped"
  std::string address;    // "vm.web"; empty for whole-fleet events
  std::string message;
};

std::string EventsPath(const std::string& state_dir);

int64_t NowMs();

// Appends one event; rotates first when the log is past kRotateBytes.
Status AppendEvent(const std::string& state_dir, const Event& event);

// Reads complete lines from byte `offset` on; `next_offset` is where the
// next read starts (a torn last line is left for then). A line that is not
// an event is an error naming the file and line.
struct EventBatch {
  std::vector<Event> events;
  uint64_t next_offset = 0;
};
Result<EventBatch> ReadEvents(const std::string& path, uint64_t offset);

std::string FormatEventLine(const Event& e);  // "2026-11-29T08:50:01.123Z daemon vm.web drift: ..."
std::string EventToJson(const Event& e);      // one line, no newline

// Apply progress into the event log, forwarded to `next` (the terminal) as
// well. Failures to log are counted, never thrown into the apply.
class EventRecorder : public apply::ApplyEvents {
 public:
  EventRecorder(std::string state_dir, std::string source, apply::ApplyEvents* next)
      : state_dir_(std::move(state_dir)), source_(std::move(source)), next_(next) {}
  void StepStarted(const plan::Step& step) override;
  void StepNote(const plan::Step& step, std::string_view note) override;
  void StepFinished(const plan::Step& step, const apply::StepOutcome& outcome) override;
  // Logs an event of this recorder's source.
  void Log(const std::string& kind, const std::string& address, const std::string& message);
  int log_failures() const { return log_failures_; }

 private:
  std::string state_dir_, source_;
  apply::ApplyEvents* next_;
  std::mutex mu_;
  int log_failures_ = 0;
};

}  // namespace banger::daemon
