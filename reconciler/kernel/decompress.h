// Whole-buffer decompression through libarchive's raw reader.
//
// One code path for every compressor a kernel or module may use (gzip, xz,
// lzma, bzip2, zstd and lz4 including the kernel's legacy lz4 framing), so
// banger needs no separate library per format.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "reconciler/base/error.h"

namespace banger::kernel {

struct Decompressed {
  std::string data;
  // False when the stream ended in an error after `data` was produced, as
  // happens when a compressed stream is followed by unrelated bytes (a
  // bzImage payload ends with its 4-byte size). Callers that can validate
  // the output by other means may accept it.
  bool clean_end = true;
  std::string end_error;
};

// Fails when no compression format is recognised, when nothing could be
// decompressed, or when the output would exceed max_output bytes.
Result<Decompressed> DecompressBuffer(std::string_view input, uint64_t max_output);

// Decompresses a kernel module image (.ko.xz, .ko.zst, .ko.gz) or returns
// an uncompressed one unchanged; `name` is used in messages.
Result<std::string> ModuleBytes(std::string data, const std::string& name);

}  // namespace banger::kernel
