// Facts read from an x86 bzImage, and the ELF vmlinux inside it.
//
// Firecracker boots an uncompressed ELF vmlinux; distributions ship a
// bzImage. The setup header locates the compressed payload exactly
// (payload_offset/payload_length, boot protocol >= 2.08), and the kernel's
// build appends the uncompressed size to that payload, so the extraction
// can be verified rather than guessed as extract-vmlinux does.
#pragma once

#include <string>
#include <string_view>

#include "reconciler/base/error.h"

namespace banger::kernel {

// Whether data looks like an x86 bzImage ("HdrS" setup header).
bool IsBzImage(std::string_view data);

// The kernel release from the header's version string, e.g.
// "6.1.0-56-cloud-amd64".
Result<std::string> BzImageRelease(std::string_view bzimage);

// The uncompressed ELF kernel. Debian 6.1 compresses it with lz4 (legacy
// framing); gzip, xz, lzma, bzip2 and zstd payloads work the same way.
Result<std::string> ExtractVmlinux(std::string_view bzimage);

}  // namespace banger::kernel
