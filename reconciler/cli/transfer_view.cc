#include "reconciler/cli/transfer_view.h"

#include <cstdio>
#include <ostream>

namespace banger::cli {
namespace {

std::string Duration(double seconds) {
  char buf[32];
  long s = static_cast<long>(seconds + 0.5);
  if (s >= 3600)
    snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s / 60) % 60);
  else if (s >= 60)
    snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  else
    snprintf(buf, sizeof buf, "%lds", s);
  return buf;
}

}  // namespace

std::string HumanBytes(uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1024 && unit < 4) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  if (unit == 0)
    snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  else
    snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[unit]);
  return buf;
}

std::vector<std::string> RenderTransfers(const std::vector<TransferState>& items,
                                         std::chrono::milliseconds elapsed) {
  std::vector<std::string> lines;
  uint64_t done = 0, total = 0;
  bool total_known = true;
  for (const auto& t : items) {
    done += t.done;
    total += t.total;
    total_known &= t.total > 0;
    std::string line = "  " + t.item + "  " + HumanBytes(t.done);
    if (t.total > 0) {
      char pct[16];
      snprintf(pct, sizeof pct, "%3d%%",
               static_cast<int>(100.0 * static_cast<double>(std::min(t.done, t.total)) /
                                static_cast<double>(t.total)));
      line += " / " + HumanBytes(t.total) + "  " + pct;
      if (t.done >= t.total) line += "  done";
    }
    lines.push_back(line);
  }
  double secs = static_cast<double>(elapsed.count()) / 1000.0;
  std::string summary = "  total " + HumanBytes(done);
  if (total_known && total > 0) summary += " / " + HumanBytes(total);
  if (secs > 0.05) {
    double rate = static_cast<double>(done) / secs;
    summary += "  " + HumanBytes(static_cast<uint64_t>(rate)) + "/s";
    if (total_known && total > done && rate > 0)
      summary += "  ETA " + Duration(static_cast<double>(total - done) / rate);
  }
  lines.push_back(summary);
  return lines;
}

TransferView::TransferView(Console& console, std::string prefix)
    : console_(console), prefix_(std::move(prefix)), started_(std::chrono::steady_clock::now()) {}

TransferView::~TransferView() { Finish(); }

void TransferView::Note(std::string_view message) {
  std::lock_guard<std::mutex> l(mu_);
  ClearBlock();
  console_.out << prefix_ << message << "\n";
  Redraw(true);
}

void TransferView::Bytes(std::string_view item, uint64_t done, uint64_t total) {
  if (!console_.out_tty) return;
  std::lock_guard<std::mutex> l(mu_);
  if (!started_any_) {
    started_any_ = true;
    started_ = std::chrono::steady_clock::now();
  }
  auto it = index_.find(item);
  if (it == index_.end()) {
    it = index_.emplace(std::string(item), items_.size()).first;
    items_.push_back({std::string(item), 0, 0});
  }
  items_[it->second].done = done;
  items_[it->second].total = total;
  Redraw(done == total);
}

void TransferView::Finish() {
  std::lock_guard<std::mutex> l(mu_);
  ClearBlock();
  items_.clear();
  index_.clear();
  console_.out << std::flush;
}

void TransferView::ClearBlock() {
  // Cursor up one line and erase it, once per drawn line.
  for (; drawn_lines_ > 0; --drawn_lines_) console_.out << "\x1b[1A\x1b[2K";
}

void TransferView::Redraw(bool force) {
  if (!console_.out_tty || items_.empty()) {
    console_.out << std::flush;
    return;
  }
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  ClearBlock();
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - started_);
  for (const auto& line : RenderTransfers(items_, elapsed)) {
    console_.out << line << "\n";
    ++drawn_lines_;
  }
  console_.out << std::flush;
}

}  // namespace banger::cli
