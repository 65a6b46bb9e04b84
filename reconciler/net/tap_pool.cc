#include "reconciler/net/tap_pool.h"

#include <cstdio>

namespace banger::net {

Result<std::unique_ptr<TapPool>> TapPool::Start(TapPoolOptions options) {
  BANGER_ASSIGN_OR_RETURN(HelperClient control, HelperClient::Connect(options.client));
  BANGER_ASSIGN_OR_RETURN(std::vector<helper::TapInfo> taps, control.ListTaps());
  std::unique_ptr<TapPool> pool(new TapPool(std::move(options), std::move(control)));
  const std::string prefix = helper::kTapPrefix;
  for (const helper::TapInfo& tap : taps) {
    if (!tap.vm.empty() || tap.bridge != pool->options_.bridge ||
        tap.name.compare(0, prefix.size(), prefix) != 0) {
      continue;
    }
    // Busy means another engine's pool holds it: that tap is theirs.
    auto opened = pool->control_.OpenTap(tap.name);
    if (opened.ok()) pool->free_.push_back(std::move(opened).value());
  }
  for (size_t i = 0; i < std::max<size_t>(1, pool->options_.fill_threads); ++i) {
    pool->fillers_.emplace_back([p = pool.get()] { p->FillLoop(); });
  }
  return pool;
}

TapPool::TapPool(TapPoolOptions options, HelperClient control)
    : options_(std::move(options)), rng_(std::random_device{}()), control_(std::move(control)) {}

TapPool::~TapPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  demand_.notify_all();
  for (std::thread& t : fillers_) t.join();
}

std::string TapPool::NewTapName() {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%06llx",
                static_cast<unsigned long long>(rng_() & 0xffffff));
  return helper::kTapPrefix + std::string(buf);
}

Result<TapHandle> TapPool::CreateTap(HelperClient& client) {
  // A random name can collide with an existing tap; a fresh one is drawn.
  for (int attempt = 0;; ++attempt) {
    std::string name;
    {
      std::lock_guard lock(mu_);
      name = NewTapName();
    }
    auto tap = client.CreateTap(name, options_.bridge);
    if (tap.ok() || tap.error().code() != Code::kAlreadyExists || attempt == 3) return tap;
  }
}

void TapPool::FillLoop() {
  std::optional<HelperClient> client;
  std::unique_lock lock(mu_);
  for (;;) {
    demand_.wait(lock, [&] { return stopping_ || free_.size() + in_flight_ < options_.size; });
    if (stopping_) return;
    ++in_flight_;
    lock.unlock();

    std::optional<Error> failure;
    std::optional<TapHandle> made;
    if (!client) {
      auto connected = HelperClient::Connect(options_.client);
      if (connected.ok()) client.emplace(std::move(connected).value());
      else failure = connected.error();
    }
    if (client) {
      auto tap = CreateTap(*client);
      if (tap.ok()) made.emplace(std::move(tap).value());
      else failure = tap.error();
    }

    lock.lock();
    --in_flight_;
    if (made) {
      free_.push_back(std::move(*made));
      ++created_;
      last_error_.reset();
    } else {
      last_error_ = failure->WithContext("refill tap pool");
    }
    changed_.notify_all();
    if (failure) {
      demand_.wait_for(lock, options_.retry_delay, [&] { return stopping_; });
    }
  }
}

Result<AcquiredTap> TapPool::Acquire(const std::string& vm) {
  {
    std::lock_guard control(control_mu_);
    BANGER_ASSIGN_OR_RETURN(std::optional<TapHandle> left, ReclaimAbandoned(vm));
    if (left) return AcquiredTap{left->name, std::move(left->fd), true};
  }
  for (;;) {
    std::optional<TapHandle> tap;
    {
      std::lock_guard lock(mu_);
      if (free_.empty()) break;
      tap.emplace(std::move(free_.front()));
      free_.pop_front();
    }
    Status assigned = [&] {
      std::lock_guard control(control_mu_);
      return control_.AssignTap(tap->name, vm);
    }();
    // Refill only now, so the fillers' work does not compete with this
    // VM's start for the helper and the CPU.
    demand_.notify_one();
    if (assigned.ok()) return AcquiredTap{tap->name, std::move(tap->fd), true};
    Code code = assigned.error().code();
    // Busy: another engine assigned it first; gone/not ours: it vanished.
    // Either way this stock is useless; try the next one.
    if (code != Code::kBusy && code != Code::kPermissionDenied && code != Code::kNotFound) {
      return assigned.error().WithContext("acquire tap for " + Quote(vm));
    }
  }

  // Cold path: the pool is empty (just started, or drained by a burst).
  std::lock_guard control(control_mu_);
  auto tap = CreateTap(control_);
  if (!tap.ok()) return tap.error().WithContext("acquire tap for " + Quote(vm));
  {
    std::lock_guard lock(mu_);
    ++created_;
  }
  if (auto st = control_.AssignTap(tap->name, vm); !st.ok()) {
    (void)control_.DeleteTap(tap->name);
    return st.error().WithContext("acquire tap for " + Quote(vm));
  }
  return AcquiredTap{tap->name, std::move(tap->fd), false};
}

Result<std::optional<TapHandle>> TapPool::ReclaimAbandoned(const std::string& vm) {
  auto taps = control_.ListTaps();
  if (!taps.ok()) return taps.error().WithContext("acquire tap for " + Quote(vm));
  for (const helper::TapInfo& tap : *taps) {
    if (tap.vm != vm || tap.bridge != options_.bridge) continue;
    // Busy: a VMM (or another engine's start of a VM of that name) holds
    // it; only a tap nobody holds is abandoned.
    auto opened = control_.OpenTap(tap.name);
    if (opened.ok()) return std::optional<TapHandle>(std::move(opened).value());
  }
  return std::optional<TapHandle>();
}

Status TapPool::Release(const std::string& name) {
  std::lock_guard control(control_mu_);
  return control_.DeleteTap(name);
}

Status TapPool::Drain() {
  std::deque<TapHandle> taps;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  demand_.notify_all();
  for (std::thread& t : fillers_) t.join();
  fillers_.clear();
  {
    std::lock_guard lock(mu_);
    taps.swap(free_);
  }
  std::optional<Error> first;
  std::lock_guard control(control_mu_);
  for (TapHandle& tap : taps) {
    std::string name = tap.name;
    tap.fd.Reset();
    if (auto st = control_.DeleteTap(name); !st.ok() && !first) first = st.error();
  }
  if (first) return first->WithContext("drain tap pool");
  return OkStatus();
}

size_t TapPool::FreeCount() const {
  std::lock_guard lock(mu_);
  return free_.size();
}

bool TapPool::WaitUntilFull(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout, [&] { return free_.size() >= options_.size; });
}

uint64_t TapPool::CreatedCount() const {
  std::lock_guard lock(mu_);
  return created_;
}

std::optional<Error> TapPool::LastFillError() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

}  // namespace banger::net
