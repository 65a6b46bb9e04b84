#include "reconciler/kernel/bzimage.h"

#include <cstdint>
#include <cstring>

#include "reconciler/kernel/decompress.h"

namespace banger::kernel {
namespace {

// Offsets in the real-mode setup header (Documentation/x86/boot.rst).
constexpr size_t kHeaderMagic = 0x202;     // "HdrS"
constexpr size_t kVersion = 0x206;         // boot protocol version
constexpr size_t kKernelVersion = 0x20e;   // pointer to version string - 0x200
constexpr size_t kSetupSects = 0x1f1;
constexpr size_t kPayloadOffset = 0x248;   // from the start of protected mode code
constexpr size_t kPayloadLength = 0x24c;

uint32_t Le32(std::string_view d, size_t off) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(d[off + i]);
  return v;
}
uint16_t Le16(std::string_view d, size_t off) {
  return static_cast<uint16_t>(static_cast<unsigned char>(d[off]) |
                               (static_cast<unsigned char>(d[off + 1]) << 8));
}

}  // namespace

bool IsBzImage(std::string_view data) {
  return data.size() > kPayloadLength + 4 && data.substr(kHeaderMagic, 4) == "HdrS";
}

Result<std::string> BzImageRelease(std::string_view bzimage) {
  if (!IsBzImage(bzimage)) return Error(Code::kCorruption, "not a bzImage (no 'HdrS' header)");
  size_t ptr = Le16(bzimage, kKernelVersion);
  if (ptr == 0) return Error(Code::kCorruption, "bzImage has no kernel version string");
  size_t off = ptr + 0x200;
  if (off >= bzimage.size()) return Error(Code::kCorruption, "bzImage version string out of range");
  size_t end = off;
  while (end < bzimage.size() && end - off < 256 && bzimage[end] != '\0' &&
         bzimage[end] != ' ') {
    ++end;
  }
  if (end == off) return Error(Code::kCorruption, "bzImage version string is empty");
  return std::string(bzimage.substr(off, end - off));
}

Result<std::string> ExtractVmlinux(std::string_view bzimage) {
  if (!IsBzImage(bzimage)) return Error(Code::kCorruption, "not a bzImage (no 'HdrS' header)");
  if (Le16(bzimage, kVersion) < 0x208) {
    return Error(Code::kCorruption, "bzImage boot protocol older than 2.08 has no payload fields");
  }
  size_t setup_sects = static_cast<unsigned char>(bzimage[kSetupSects]);
  if (setup_sects == 0) setup_sects = 4;
  const uint64_t pm_start = (setup_sects + 1) * 512;
  const uint64_t offset = pm_start + Le32(bzimage, kPayloadOffset);
  const uint64_t length = Le32(bzimage, kPayloadLength);
  if (length < 8 || offset + length > bzimage.size()) {
    return Error(Code::kCorruption, "bzImage payload (offset " + std::to_string(offset) +
                                        ", length " + std::to_string(length) +
                                        ") lies outside the file");
  }
  std::string_view payload = bzimage.substr(offset, length);
  // The payload ends with the uncompressed size as a little-endian u32:
  // gzip's own ISIZE trailer, or appended by the build (*_with_size) for the
  // other compressors, whose decoders must not see those 4 bytes.
  const uint32_t expected = Le32(payload, payload.size() - 4);
  const bool gzip = payload.substr(0, 2) == "\x1f\x8b";
  auto out = DecompressBuffer(gzip ? payload : payload.substr(0, payload.size() - 4), 1ull << 30);
  if (!out.ok()) return out.error().WithContext("bzImage payload");
  if (out->data.size() != expected) {
    return Error(Code::kCorruption,
                 "bzImage payload: decompressed " + std::to_string(out->data.size()) +
                     " bytes, header says " + std::to_string(expected) +
                     (out->clean_end ? "" : " (" + out->end_error + ")"));
  }
  if (out->data.compare(0, 4, "\x7f" "ELF") != 0) {
    return Error(Code::kCorruption, "bzImage payload does not decompress to an ELF vmlinux");
  }
  return std::move(out->data);
}

}  // namespace banger::kernel
