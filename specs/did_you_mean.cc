#include "specs/did_you_mean.h"

#include <algorithm>
#include <cctype>

#include "reconciler/base/error.h"

namespace banger::specs {

size_t EditDistance(std::string_view a, std::string_view b) {
  // Optimal string alignment distance over three rolling rows.
  std::vector<size_t> prev2(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);
    }
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

namespace {

// Short words tolerate one edit; longer ones a few more, so "vcpu" finds
// "vcpus" but "ram" does not find "nat".
size_t Tolerance(std::string_view word) {
  if (word.size() <= 4) return 1;
  if (word.size() <= 8) return 2;
  return 3;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates) {
  std::string lowered = Lower(word);
  const std::string* best = nullptr;
  size_t best_distance = Tolerance(word) + 1;
  for (const auto& c : candidates) {
    // Case is never meaningful in banger's keys and names, so "Memory"
    // should find "memory" even though it is one edit away only by case.
    size_t d = EditDistance(lowered, c);
    if (d < best_distance && c != word) {
      best = &c;
      best_distance = d;
    }
  }
  return best ? *best : std::string();
}

std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  std::string match = ClosestMatch(word, candidates);
  if (match.empty()) return "";
  return " (did you mean " + Quote(match) + "?)";
}

}  // namespace banger::specs
