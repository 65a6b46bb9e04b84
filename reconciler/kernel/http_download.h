// Downloads over HTTP(S) with libcurl, hashed while they stream.
//
// Used for kernel bundles and catalog kernels. Timeouts bound a stalled
// server, redirects are followed (to http/https only), HTTP status >= 400 is
// an error, and a download that fails or does not match its digest leaves
// no file behind.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "reconciler/base/error.h"

namespace banger::kernel {

// Prefix of the per-process directory a download is written in, inside
// the downloads dir, until its digest matched.
inline constexpr char kDownloadPartPrefix[] = ".part-";

struct DownloadOptions {
  std::chrono::seconds connect_timeout{30};
  // Abort when fewer than 1 KiB/s arrive for this long.
  std::chrono::seconds stall_timeout{60};
  std::chrono::seconds total_timeout{30 * 60};
  uint64_t max_bytes = 4ull << 30;
  // Called now and then with bytes received and the total (0 if unknown).
  std::function<void(uint64_t received, uint64_t total)> on_progress;
};

struct Downloaded {
  std::string sha256;  // lowercase hex of the bytes written
  uint64_t bytes = 0;
};

// Streams `url` (http, https or file) into `dest`, which must not exist.
// On failure `dest` is removed and the error names the URL; SIGINT/SIGTERM
// (os/cancel.h) aborts the transfer with kCancelled.
Result<Downloaded> DownloadToFile(const std::string& url, const std::string& dest,
                                  const DownloadOptions& options);

// Returns "<downloads_dir>/<sha256>", downloading `url` there first unless
// a file with that content is already cached. The download goes to a
// temporary name and is renamed only after its digest matched; a mismatch
// removes it and fails with "download 'URL': sha256 mismatch: expected X,
// got Y".
Result<std::string> FetchVerified(const std::string& url, const std::string& sha256,
                                  const std::string& downloads_dir,
                                  const DownloadOptions& options);

}  // namespace banger::kernel
