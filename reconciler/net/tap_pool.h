// A warm pool of taps, so starting a VM never waits for tap creation.
//
// Which taps are the pool's is the helper's record, nothing else: every tap
// the helper creates starts free (vm ""), and Acquire() claims one for a VM
// with assign_tap, which the helper refuses (busy) for a tap already
// assigned elsewhere. So a free tap is never a leak (it is pool stock, listed
// by list_taps), and two engines sharing one helper never hand out the same
// tap. The pool also holds an open fd of each free tap: a single-queue tap
// accepts one attachment, so another engine's Start() cannot adopt a tap
// this pool holds (open_tap reports busy), only free taps nobody holds.
//
// Fillers: `fill_threads` threads, each with its own helper connection,
// create taps in parallel until `size` are free, and again after each
// Acquire. The destructor stops and joins them; free taps stay in the
// helper's record for the next pool to adopt (Drain() deletes them).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "reconciler/net/helper_client.h"

namespace banger::net {

struct TapPoolOptions {
  HelperClientOptions client;
  std::string bridge;  // created beforehand with EnsureBridge
  size_t size = 2;     // free taps kept ready
  size_t fill_threads = 2;
  std::chrono::milliseconds retry_delay{std::chrono::seconds(1)};
};

struct AcquiredTap {
  std::string name;
  UniqueFd fd;
  bool from_pool = false;  // false: created on the spot (the pool was empty)
};

class TapPool {
 public:
  // Connects, adopts the free taps on `bridge` that nobody holds, and starts
  // the fillers. Fails only when the helper cannot be reached.
  static Result<std::unique_ptr<TapPool>> Start(TapPoolOptions options);
  ~TapPool();
  TapPool(const TapPool&) = delete;
  TapPool& operator=(const TapPool&) = delete;

  // A tap assigned to `vm`: the one a start of `vm` that was killed before
  // its VMM ran left assigned (held by nobody), else a free one when there
  // is one (no creation on this path), else one created now.
  Result<AcquiredTap> Acquire(const std::string& vm);

  // Deletes a VM's tap (after its VMM exited).
  Status Release(const std::string& name);

  // Stops refilling and deletes the free taps.
  Status Drain();

  size_t FreeCount() const;
  // Waits until `size` taps are free; false on timeout.
  bool WaitUntilFull(std::chrono::milliseconds timeout) const;
  // Taps this pool created (fills and cold acquires), for tests and stats.
  uint64_t CreatedCount() const;
  // The most recent fill failure, cleared by the next success.
  std::optional<Error> LastFillError() const;

 private:
  TapPool(TapPoolOptions options, HelperClient control);

  void FillLoop();
  std::string NewTapName();  // requires mu_
  Result<TapHandle> CreateTap(HelperClient& client);
  // An open tap already assigned to `vm` that no process holds (requires
  // control_mu_).
  Result<std::optional<TapHandle>> ReclaimAbandoned(const std::string& vm);

  TapPoolOptions options_;

  mutable std::mutex mu_;
  std::condition_variable demand_;             // fillers wait here
  mutable std::condition_variable changed_;    // WaitUntilFull waits here
  std::deque<TapHandle> free_;
  size_t in_flight_ = 0;
  bool stopping_ = false;
  uint64_t created_ = 0;
  std::optional<Error> last_error_;
  std::mt19937_64 rng_;

  std::mutex control_mu_;  // one request at a time on control_
  HelperClient control_;

  std::vector<std::thread> fillers_;
};

}  // namespace banger::net
