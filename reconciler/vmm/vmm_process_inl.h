// Template part of vmm_process.h.
#pragma once

#include <thread>

namespace banger::vmm {

template <typename ReadyFn>
Status WaitUntilReady(const VmmProcess& process, std::chrono::milliseconds timeout,
                      ReadyFn ready) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Status last = OkStatus();
  for (;;) {
    if (!process.Alive()) {
      return Error(Code::kUnavailable, "exited during start: " + process.DescribeExit());
    }
    last = ready();
    if (last.ok()) return last;
    if (std::chrono::steady_clock::now() >= deadline) {
      return Error(Code::kTimeout, "not ready after " + std::to_string(timeout.count()) +
                                       " ms: " + last.error().message());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace banger::vmm
