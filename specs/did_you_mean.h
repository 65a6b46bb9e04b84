// Suggestions for misspelt keys and names.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace banger::specs {

// Edit distance counting insertions, deletions, substitutions and swaps of
// adjacent characters (so "memroy" is one edit from "memory").
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate closest to `word`, if it is close enough to be a likely typo;
// ties go to the earlier candidate. Empty when nothing is close.
std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates);

// " (did you mean 'x'?)" for the closest match, or "" when there is none.
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace banger::specs
