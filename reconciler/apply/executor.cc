#include "reconciler/apply/executor.h"

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "reconciler/apply/step_runner.h"

namespace banger::apply {
namespace {

using Clock = std::chrono::steady_clock;
using State = StepOutcome::State;

// Forwards a step's notes to the event sink.
class EventProgress : public StepProgress {
 public:
  EventProgress(ApplyEvents* events, const plan::Step& step) : events_(events), step_(step) {}
  void Note(std::string_view message) override {
    if (events_) events_->StepNote(step_, message);
  }

 private:
  ApplyEvents* events_;
  const plan::Step& step_;
};

}  // namespace

ApplyResult Executor::Run(const plan::Plan& plan, const specs::DesiredState& desired,
                          model::StoreSnapshot records) {
  LiveRecords live(std::move(records));
  StepRunner runner(deps_, desired, live);

  const size_t n = plan.steps.size();
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < n; ++i) index[plan.steps[i].address] = i;

  std::vector<StepOutcome> outcomes(n);
  std::vector<bool> started(n, false), finished(n, false);
  std::mutex mu;
  std::condition_variable cv;
  int running = 0;
  size_t finished_count = 0;

  // Returns the first dependency that did not converge, or "" if all did,
  // or nullopt while some are still pending.
  auto dependency_state = [&](size_t i) -> std::optional<std::string> {
    for (const auto& dep : plan.steps[i].depends_on) {
      auto it = index.find(dep);
      if (it == index.end()) continue;  // not part of this plan: converged
      if (!finished[it->second]) return std::nullopt;
      if (outcomes[it->second].state != State::kDone) return dep;
    }
    return std::string();
  };

  std::vector<std::thread> threads;
  std::unique_lock<std::mutex> lock(mu);
  while (finished_count < n) {
    bool launched = false;
    for (size_t i = 0; i < n && running < parallelism_; ++i) {
      if (started[i]) continue;
      auto deps = dependency_state(i);
      if (!deps) continue;
      started[i] = true;
      const plan::Step& step = plan.steps[i];
      outcomes[i].address = step.address;
      if (!deps->empty()) {
        outcomes[i].state = State::kSkipped;
        outcomes[i].skipped_because = *deps;
        finished[i] = true;
        ++finished_count;
        if (deps_.events) deps_.events->StepFinished(step, outcomes[i]);
        launched = true;
        continue;
      }
      ++running;
      launched = true;
      threads.emplace_back([&, i] {
        const plan::Step& s = plan.steps[i];
        if (deps_.events) deps_.events->StepStarted(s);
        EventProgress progress(deps_.events, s);
        const auto t0 = Clock::now();
        Status st = runner.Run(s, progress);
        StepOutcome out;
        out.address = s.address;
        out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
        if (!st.ok()) {
          out.state = State::kFailed;
          out.error = std::move(st).error();
        }
        if (deps_.events) deps_.events->StepFinished(s, out);
        std::lock_guard<std::mutex> g(mu);
        outcomes[i] = std::move(out);
        finished[i] = true;
        ++finished_count;
        --running;
        cv.notify_all();
      });
    }
    if (finished_count >= n) break;
    if (!launched) cv.wait(lock);
  }
  lock.unlock();
  for (auto& t : threads) t.join();

  ApplyResult result;
  result.outcomes = std::move(outcomes);
  for (const auto& o : result.outcomes) {
    if (o.state == State::kDone) ++result.done;
    if (o.state == State::kFailed) ++result.failed;
    if (o.state == State::kSkipped) ++result.skipped;
  }
  return result;
}

}  // namespace banger::apply
