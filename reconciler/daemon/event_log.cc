#include "reconciler/daemon/event_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <ctime>

#include <nlohmann/json.hpp>

#include "reconciler/os/fs.h"
#include "reconciler/os/unique_fd.h"
#include "reconciler/plan/plan.h"

namespace banger::daemon {
namespace {

using nlohmann::json;

// A line longer than this is not one banger wrote.
constexpr size_t kMaxLine = 64 * 1024;

}  // namespace

std::string EventsPath(const std::string& state_dir) {
  return JoinPath(state_dir, "events.jsonl");
}

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string EventToJson(const Event& e) {
  json j = {{"time_ms", e.time_ms}, {"source", e.source}, {"kind", e.kind},
            {"address", e.address}, {"message", e.message}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Status AppendEvent(const std::string& state_dir, const Event& event) {
  const std::string path = EventsPath(state_dir);
  struct stat st {};
  if (stat(path.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) > kRotateBytes) {
    if (rename(path.c_str(), (path + ".1").c_str()) != 0)
      return Error::FromErrno("rotate " + Quote(path));
  }
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) return Error::FromErrno("open " + Quote(path));
  const std::string line = EventToJson(event) + "\n";
  ssize_t n = write(fd.get(), line.data(), line.size());
  if (n < 0) return Error::FromErrno("append to " + Quote(path));
  if (static_cast<size_t>(n) != line.size())
    return Error(Code::kIo, "append to " + Quote(path) + ": short write");
  return OkStatus();
}

Result<EventBatch> ReadEvents(const std::string& path, uint64_t offset) {
  EventBatch batch;
  batch.next_offset = offset;
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return batch;
    return Error::FromErrno("open " + Quote(path));
  }
  std::string data;
  char buf[65536];
  for (;;) {
    ssize_t n = pread(fd.get(), buf, sizeof buf, static_cast<off_t>(offset + data.size()));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno("read " + Quote(path));
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  size_t start = 0;
  for (;;) {
    size_t nl = data.find('\n', start);
    if (nl == std::string::npos) {
      if (data.size() - start > kMaxLine)
        return Error(Code::kCorruption, Quote(path) + ": a line longer than 64 KiB");
      break;
    }
    const std::string line = data.substr(start, nl - start);
    const uint64_t line_offset = offset + start;
    start = nl + 1;
    json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    Event e;
    try {
      if (j.is_discarded() || !j.is_object()) throw std::runtime_error("not a JSON object");
      e.time_ms = j.at("time_ms").get<int64_t>();
      e.source = j.at("source").get<std::string>();
      e.kind = j.at("kind").get<std::string>();
      e.address = j.at("address").get<std::string>();
      e.message = j.at("message").get<std::string>();
    } catch (const std::exception& ex) {
      return Error(Code::kCorruption, Quote(path) + " at byte " + std::to_string(line_offset) +
                                          ": not an event: " + ex.what());
    }
    batch.events.push_back(std::move(e));
  }
  batch.next_offset = offset + start;
  return batch;
}

std::string FormatEventLine(const Event& e) {
  const time_t secs = static_cast<time_t>(e.time_ms / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char stamp[40];
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  char ms[8];
  snprintf(ms, sizeof ms, ".%03dZ", static_cast<int>(e.time_ms % 1000));
  std::string line = std::string(stamp) + ms + " " + e.source + " ";
  if (!e.address.empty()) line += e.address + " ";
  line += e.kind;
  if (!e.message.empty()) line += ": " + e.message;
  return line;
}

void EventRecorder::Log(const std::string& kind, const std::string& address,
                        const std::string& message) {
  std::lock_guard<std::mutex> l(mu_);
  if (!AppendEvent(state_dir_, {NowMs(), source_, kind, address, message}).ok()) ++log_failures_;
}

void EventRecorder::StepStarted(const plan::Step& step) {
  std::string why;
  for (const auto& c : step.changes) why += (why.empty() ? "" : "; ") + c.reason;
  Log("step-started", step.address, std::string(plan::ActionName(step.action)) +
                                        (why.empty() ? "" : " (" + why + ")"));
  if (next_) next_->StepStarted(step);
}

void EventRecorder::StepNote(const plan::Step& step, std::string_view note) {
  // Notes are progress for a terminal; the log keeps outcomes.
  if (next_) next_->StepNote(step, note);
}

void EventRecorder::StepFinished(const plan::Step& step, const apply::StepOutcome& o) {
  using S = apply::StepOutcome::State;
  const std::string action(plan::ActionName(step.action));
  const std::string secs = std::to_string(o.elapsed.count()) + " ms";
  if (o.state == S::kDone) Log("step-done", step.address, action + " in " + secs);
  if (o.state == S::kFailed)
    Log("step-failed", step.address, action + " after " + secs + ": " + o.error->message());
  if (o.state == S::kSkipped)
    Log("step-skipped", step.address, o.skipped_because + " did not converge");
  if (next_) next_->StepFinished(step, o);
}

}  // namespace banger::daemon
