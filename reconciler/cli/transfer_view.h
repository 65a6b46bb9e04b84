// Progress of one long operation with transfers (`banger image pull`).
//
// On a terminal it redraws a block: one line per transfer (bytes done of
// total, percent) and a total line with rate and ETA, at most ten times a
// second; notes scroll above the block. Elsewhere it prints notes only, a
// line each, so logs and pipes stay readable.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "reconciler/apply/effects.h"
#include "reconciler/cli/cli.h"

namespace banger::cli {

struct TransferState {
  std::string item;
  uint64_t done = 0;
  uint64_t total = 0;  // 0: unknown
};

// "12.3 MiB", "512 B".
std::string HumanBytes(uint64_t bytes);

// The block's lines for `items` after `elapsed` of transferring (the rate
// is the total bytes over elapsed time; ETA from the remaining bytes at
// that rate). Pure, so it is table-tested.
std::vector<std::string> RenderTransfers(const std::vector<TransferState>& items,
                                         std::chrono::milliseconds elapsed);

class TransferView : public apply::StepProgress {
 public:
  // `prefix` starts every note line ("image.debian-bookworm: ").
  TransferView(Console& console, std::string prefix);
  ~TransferView() override;

  void Note(std::string_view message) override;
  void Bytes(std::string_view item, uint64_t done, uint64_t total) override;
  // Clears the block (the final notes say what happened).
  void Finish();

 private:
  void Redraw(bool force);
  void ClearBlock();

  Console& console_;
  const std::string prefix_;
  std::mutex mu_;
  std::vector<TransferState> items_;
  std::map<std::string, size_t, std::less<>> index_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_draw_{};
  size_t drawn_lines_ = 0;
  bool started_any_ = false;
};

}  // namespace banger::cli
