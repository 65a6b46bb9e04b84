#include "reconciler/cli/field_view.h"

#include <iomanip>
#include <ostream>

namespace banger::cli {
namespace {

std::string Scalar(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

std::string Inline(const nlohmann::json& v) {
  if (v.is_object()) {
    std::string text;
    for (const auto& [k, item] : v.items()) {
      std::string value = item.is_structured() ? Inline(item) : Scalar(item);
      if (value.empty()) continue;
      text += (text.empty() ? "" : ", ") + k + "=" + value;
    }
    return text;
  }
  if (v.is_array()) {
    std::string text;
    for (const auto& item : v) text += (text.empty() ? "" : ", ") + Inline(item);
    return text;
  }
  return Scalar(v);
}

}  // namespace

void PrintFields(Console& console, const nlohmann::json& object) {
  size_t width = 0;
  for (const auto& [key, _] : object.items()) width = std::max(width, key.size() + 2);
  for (const auto& [key, value] : object.items()) {
    if (value.is_array() && !value.empty() && value.front().is_object()) {
      console.out << key << ":\n";
      for (const auto& item : value) console.out << "  " << Inline(item) << "\n";
      continue;
    }
    std::string text = Inline(value);
    if (text.empty()) continue;
    console.out << std::left << std::setw(static_cast<int>(width)) << (key + ":") << text << "\n";
  }
}

}  // namespace banger::cli
