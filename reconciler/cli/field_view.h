// The human view of a `show` verb, rendered from the same JSON object that
// `--json` prints, so the two never disagree about what a verb knows.
#pragma once

#include <nlohmann/json.hpp>

#include "reconciler/cli/cli.h"

namespace banger::cli {

// One "key:  value" line per field, in the object's order. Empty strings,
// empty objects and empty arrays are left out; nested objects print as
// "k=v, k=v"; arrays of scalars as "a, b"; arrays of objects as one
// indented line per element.
void PrintFields(Console& console, const nlohmann::json& object);

}  // namespace banger::cli
