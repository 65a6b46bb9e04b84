// What the fuzz targets share: a scratch directory for the readers that take
// a path, and a failure that stops the run.
//
// Each target is an LLVMFuzzerTestOneInput. Under clang it links libFuzzer
// (-fsanitize=fuzzer); under the normal build it links replay_main.cc,
// which feeds it every file of its seed corpus, so ctest replays the corpus
// without clang.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "reconciler/base/error.h"

namespace banger::fuzz {

// A directory under $TMPDIR for this process, created on first use and
// removed at exit (a crash leaves it for inspection).
const std::string& Scratch();

// Writes `data` to Scratch()/name, replacing it; returns the path. Aborts
// when the file cannot be written: a fuzz run on a full disk proves nothing.
std::string WriteInput(const std::string& name, std::string_view data);

// Aborts with `what` on stderr: a broken property is a finding like a
// sanitizer report, and libFuzzer saves the input that caused it.
[[noreturn]] void Fail(std::string_view what);

// Fails unless a reader's refusal of the file at `path` is kCorruption and
// names the file (what the user needs to find and fix it).
void ExpectCorruptionNaming(const Error& error, const std::string& path);

// The names directly inside `dir`, sorted; Fail()s when it cannot be listed.
std::vector<std::string> Children(const std::string& dir);

// Splits `data` at each occurrence of `separator` (several archives in one
// input, applied in order).
std::vector<std::string_view> SplitOn(std::string_view data, std::string_view separator);

inline std::string_view AsView(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace banger::fuzz
