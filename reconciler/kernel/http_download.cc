#include "reconciler/kernel/http_download.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <memory>
#include <mutex>

#include "reconciler/kernel/digest.h"
#include "reconciler/os/cancel.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/owned_dir.h"
#include "reconciler/os/unique_fd.h"

namespace banger::kernel {
namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

Status CurlGlobalInit() {
  static std::once_flag once;
  static CURLcode code = CURLE_OK;
  std::call_once(once, [] { code = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (code != CURLE_OK) {
    return Error(Code::kUnavailable, std::string("curl_global_init: ") + curl_easy_strerror(code));
  }
  return OkStatus();
}

struct Sink {
  int fd = -1;
  Sha256 hash;
  uint64_t bytes = 0;
  uint64_t max_bytes = 0;
  int write_errno = 0;
  bool too_large = false;
  const DownloadOptions* options = nullptr;
  uint64_t last_report = 0;
};

size_t OnData(char* data, size_t size, size_t nmemb, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const size_t n = size * nmemb;
  if (sink->bytes + n > sink->max_bytes) {
    sink->too_large = true;
    return 0;  // makes curl fail with CURLE_WRITE_ERROR
  }
  size_t done = 0;
  while (done < n) {
    ssize_t w = ::write(sink->fd, data + done, n - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      sink->write_errno = errno;
      return 0;
    }
    done += static_cast<size_t>(w);
  }
  sink->hash.Update(data, n);
  sink->bytes += n;
  return n;
}

int OnProgress(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
  auto* sink = static_cast<Sink*>(user);
  if (sink->options->on_progress && now > 0 &&
      static_cast<uint64_t>(now) >= sink->last_report + (4u << 20)) {
    sink->last_report = static_cast<uint64_t>(now);
    sink->options->on_progress(static_cast<uint64_t>(now), static_cast<uint64_t>(total));
  }
  // Non-zero aborts the transfer (CURLE_ABORTED_BY_CALLBACK).
  return CancelRequested() ? 1 : 0;
}

}  // namespace

Result<Downloaded> DownloadToFile(const std::string& url, const std::string& dest,
                                  const DownloadOptions& options) {
  const std::string what = "download " + Quote(url);
  BANGER_RETURN_IF_ERROR(CurlGlobalInit());
  UniqueFd fd(::open(dest.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.valid()) return Error::FromErrno(what + ": create " + Quote(dest));
  // Removes the partial file on every failure path below.
  struct Cleanup {
    const std::string& path;
    bool keep = false;
    ~Cleanup() {
      if (!keep) ::unlink(path.c_str());
    }
  } cleanup{dest};

  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return Internal(what + ": curl_easy_init failed");
  Sink sink;
  sink.fd = fd.get();
  sink.max_bytes = options.max_bytes;
  sink.options = &options;
  char errbuf[CURL_ERROR_SIZE] = {0};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(options.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(options.total_timeout.count()));
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options.stall_timeout.count()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnData);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &sink);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "banger");

  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    BANGER_RETURN_IF_ERROR(CheckCancelled(what));
    if (sink.too_large) {
      return Error(Code::kCorruption,
                   what + ": larger than " + std::to_string(options.max_bytes) + " bytes");
    }
    if (sink.write_errno) return Error::FromErrno(what + ": write " + Quote(dest), sink.write_errno);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    Code code = Code::kUnavailable;
    if (rc == CURLE_HTTP_RETURNED_ERROR && status == 404) code = Code::kNotFound;
    if (rc == CURLE_OPERATION_TIMEDOUT) code = Code::kTimeout;
    if (rc == CURLE_PARTIAL_FILE) code = Code::kCorruption;
    if (rc == CURLE_FILE_COULDNT_READ_FILE) code = Code::kNotFound;
    return Error(code, what + ": " + detail);
  }
  if (::fsync(fd.get()) != 0) return Error::FromErrno(what + ": fsync " + Quote(dest));
  std::string hex = sink.hash.HexDigest();
  if (hex.empty()) return Internal(what + ": sha256 failed");
  cleanup.keep = true;
  return Downloaded{hex, sink.bytes};
}

Result<std::string> FetchVerified(const std::string& url, const std::string& sha256,
                                  const std::string& downloads_dir,
                                  const DownloadOptions& options) {
  const std::string what = "download " + Quote(url);
  if (!IsSha256Hex(sha256)) {
    return InvalidArgument(what + ": sha256 " + Quote(sha256) + " is not 64 hex digits");
  }
  const std::string expected = LowerHex(sha256);
  BANGER_RETURN_IF_ERROR(MakeDirs(downloads_dir));
  const std::string final_path = JoinPath(downloads_dir, expected);
  if (PathExists(final_path)) {
    // A cached file is trusted only after it hashes to its name again.
    auto actual = FileSha256(final_path);
    if (actual.ok() && *actual == expected) return final_path;
    BANGER_RETURN_IF_ERROR(RemoveTree(final_path));
  }
  // A private directory per attempt: concurrent fetches of the same digest
  // never share a partial file, and every failure path removes it.
  BANGER_ASSIGN_OR_RETURN(OwnedDir part_dir, OwnedDir::Create(downloads_dir, kDownloadPartPrefix));
  const std::string part = JoinPath(part_dir.path(), "download");
  BANGER_ASSIGN_OR_RETURN(Downloaded got, DownloadToFile(url, part, options));
  if (got.sha256 != expected) {
    return Error(Code::kCorruption, what + ": sha256 mismatch: expected " + expected + ", got " +
                                        got.sha256 + " (" + std::to_string(got.bytes) + " bytes)");
  }
  if (::rename(part.c_str(), final_path.c_str()) != 0) {
    return Error::FromErrno(what + ": rename into " + Quote(final_path));
  }
  (void)SyncDir(downloads_dir);
  return final_path;
}

}  // namespace banger::kernel
