// Undo actions for a multi-step start: registered as each step succeeds,
// run in reverse when the start fails, dropped when it completes.
#pragma once

#include <functional>
#include <vector>

namespace banger::runtime {

class Undo {
 public:
  Undo() = default;
  Undo(const Undo&) = delete;
  Undo& operator=(const Undo&) = delete;
  ~Undo() {
    if (dismissed_) return;
    for (auto it = actions_.rbegin(); it != actions_.rend(); ++it) (*it)();
  }
  void Add(std::function<void()> fn) { actions_.push_back(std::move(fn)); }
  void Dismiss() { dismissed_ = true; }

 private:
  std::vector<std::function<void()>> actions_;
  bool dismissed_ = false;
};

}  // namespace banger::runtime
