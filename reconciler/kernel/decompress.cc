#include "reconciler/kernel/decompress.h"

#include <archive.h>
#include <archive_entry.h>

#include <memory>

namespace banger::kernel {
namespace {

struct ArchiveReadDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};

std::string ArchiveError(struct archive* a) {
  const char* e = archive_error_string(a);
  return e ? e : "unknown libarchive error";
}

bool HasPrefix(std::string_view data, std::string_view magic) {
  return data.substr(0, magic.size()) == magic;
}

}  // namespace

Result<Decompressed> DecompressBuffer(std::string_view input, uint64_t max_output) {
  std::unique_ptr<struct archive, ArchiveReadDeleter> a(archive_read_new());
  if (!a) return Internal("decompress: archive_read_new failed");
  archive_read_support_filter_all(a.get());
  archive_read_support_format_raw(a.get());
  if (archive_read_open_memory(a.get(), input.data(), input.size()) != ARCHIVE_OK) {
    return Error(Code::kCorruption, "decompress: " + ArchiveError(a.get()));
  }
  // The raw format accepts uncompressed input too; that is never what a
  // caller asking to decompress wants.
  if (archive_filter_count(a.get()) <= 1) {
    return Error(Code::kCorruption, "decompress: no known compression format");
  }
  struct archive_entry* entry = nullptr;
  if (archive_read_next_header(a.get(), &entry) != ARCHIVE_OK) {
    return Error(Code::kCorruption, "decompress: " + ArchiveError(a.get()));
  }
  Decompressed out;
  char buf[1 << 16];
  for (;;) {
    la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (out.data.empty()) {
        return Error(Code::kCorruption, "decompress: " + ArchiveError(a.get()));
      }
      out.clean_end = false;
      out.end_error = ArchiveError(a.get());
      break;
    }
    if (out.data.size() + static_cast<uint64_t>(n) > max_output) {
      return Error(Code::kCorruption, "decompress: output exceeds " +
                                          std::to_string(max_output) + " bytes");
    }
    out.data.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<std::string> ModuleBytes(std::string data, const std::string& name) {
  if (HasPrefix(data, "\x7f" "ELF")) return data;
  const bool xz = HasPrefix(data, "\xfd" "7zXZ");
  const bool zst = HasPrefix(data, "\x28\xb5\x2f\xfd");
  const bool gz = HasPrefix(data, "\x1f\x8b");
  if (!xz && !zst && !gz) {
    return Error(Code::kCorruption, "module " + Quote(name) +
                                        ": neither ELF nor xz/zstd/gzip compressed");
  }
  auto out = DecompressBuffer(data, 256u << 20);
  if (!out.ok()) return out.error().WithContext("module " + Quote(name));
  if (!out->clean_end) {
    return Error(Code::kCorruption, "module " + Quote(name) + ": " + out->end_error);
  }
  if (!HasPrefix(out->data, "\x7f" "ELF")) {
    return Error(Code::kCorruption, "module " + Quote(name) + ": decompressed data is not ELF");
  }
  return std::move(out->data);
}

}  // namespace banger::kernel
