// Size strings of the spec format: a whole number of bytes with an optional
// binary unit. Fractions and spaces are refused rather than rounded, so the
// size a user reads in the file is exactly the size banger allocates.
#include <cctype>
#include <limits>
#include <string>

#include "specs/loader.h"

namespace banger::specs {
namespace {

constexpr std::string_view kUnitHelp =
    "use a whole number of bytes with an optional unit K, M, G, T (or KiB, MiB, "
    "GiB, TiB), e.g. '512M' or '2G'";

Error BadSize(std::string_view text, std::string_view why) {
  return InvalidArgument("invalid size " + Quote(text) + ": " + std::string(why));
}

// Shift for a unit suffix (case-insensitive), or -1 when not a unit.
int UnitShift(std::string_view unit) {
  std::string u;
  for (char c : unit) u += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (u.empty()) return 0;
  if (u.size() == 3 && u.substr(1) == "IB") u.resize(1);
  if (u.size() != 1) return -1;
  switch (u[0]) {
    case 'K': return 10;
    case 'M': return 20;
    case 'G': return 30;
    case 'T': return 40;
  }
  return -1;
}

}  // namespace

Result<uint64_t> ParseSize(std::string_view text) {
  if (text.empty()) return BadSize(text, "empty; " + std::string(kUnitHelp));
  if (text.front() == '-') return BadSize(text, "sizes cannot be negative");
  size_t i = 0;
  uint64_t number = 0;
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (number > (kMax - digit) / 10) return BadSize(text, "too large");
    number = number * 10 + digit;
    ++i;
  }
  if (i == 0) return BadSize(text, std::string("expected a number; ") + std::string(kUnitHelp));
  std::string_view unit = text.substr(i);
  if (!unit.empty() && unit.front() == '.')
    return BadSize(text, "fractions are not allowed; use a smaller unit, e.g. '1536M' for 1.5G");
  std::string_view spelled = unit;
  while (!spelled.empty() && std::isspace(static_cast<unsigned char>(spelled.front())))
    spelled.remove_prefix(1);
  int shift = UnitShift(spelled);
  bool spaced = spelled.size() != unit.size();
  if (shift < 0 || spaced) {
    if (shift > 0 || (shift == 0 && spelled.empty()))
      return BadSize(text, "no space is allowed before the unit; write " +
                               Quote(std::string(text.substr(0, i)) + std::string(spelled)));
    return BadSize(text, "unknown unit " + Quote(spelled) + "; " + std::string(kUnitHelp));
  }
  if (shift > 0 && number > (kMax >> shift)) return BadSize(text, "too large");
  return number << shift;
}

std::string FormatSize(uint64_t bytes) {
  static constexpr struct { int shift; char unit; } kUnits[] = {
      {40, 'T'}, {30, 'G'}, {20, 'M'}, {10, 'K'}};
  if (bytes == 0) return "0";
  for (const auto& u : kUnits) {
    uint64_t scale = uint64_t{1} << u.shift;
    if (bytes % scale == 0) return std::to_string(bytes / scale) + u.unit;
  }
  return std::to_string(bytes);
}

}  // namespace banger::specs
