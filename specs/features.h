// Which desired-state sources this build can act on.
//
// The spec format is stable across builds, but a source is only useful when
// the builder behind it exists. Declaring an unavailable source is a
// validation error rather than a failure halfway through `apply`.
#pragma once

#include <string_view>

#include "specs/desired.h"

namespace banger::specs {

bool ImageSourceAvailable(ImageSource source);
bool KernelSourceAvailable(KernelSource source);

// Plural nouns for messages: "OCI images", "kernels from URLs".
std::string_view ImageSourceNoun(ImageSource source);
std::string_view KernelSourceNoun(KernelSource source);

// Test hooks: force a source on or off until ResetSourceAvailabilityForTesting().
void SetSourceAvailableForTesting(ImageSource source, bool available);
void SetSourceAvailableForTesting(KernelSource source, bool available);
void ResetSourceAvailabilityForTesting();

}  // namespace banger::specs
