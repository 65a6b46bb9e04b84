#include "reconciler/oci/blob_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "reconciler/os/file_lock.h"
#include "reconciler/os/fs.h"

namespace banger::oci {

namespace {

using nlohmann::json;

constexpr const char* kLayoutFile = R"({"imageLayoutVersion":"1.0.0"})";
constexpr const char* kRefAnnotation = "org.opencontainers.image.ref.name";

Status WriteAll(int fd, const char* data, size_t len, const std::string& path) {
  while (len > 0) {
    ssize_t n = ::write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno("write " + Quote(path));
    }
    data += n;
    len -= n;
  }
  return OkStatus();
}

}  // namespace

BlobWriter::BlobWriter(UniqueFd fd, std::string temp_path, Descriptor expected)
    : fd_(std::move(fd)), temp_path_(std::move(temp_path)), expected_(std::move(expected)) {}

BlobWriter::BlobWriter(BlobWriter&& o) noexcept
    : fd_(std::move(o.fd_)),
      temp_path_(std::exchange(o.temp_path_, std::string())),
      expected_(std::move(o.expected_)),
      hash_(std::move(o.hash_)),
      size_(o.size_) {}

BlobWriter& BlobWriter::operator=(BlobWriter&& o) noexcept {
  if (this != &o) {
    if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
    fd_ = std::move(o.fd_);
    temp_path_ = std::exchange(o.temp_path_, std::string());
    expected_ = std::move(o.expected_);
    hash_ = std::move(o.hash_);
    size_ = o.size_;
  }
  return *this;
}

BlobWriter::~BlobWriter() {
  if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
}

Status BlobWriter::Write(const char* data, size_t len) {
  if (size_ + len > expected_.size)
    return Error(Code::kCorruption, "blob " + Quote(expected_.digest) + " exceeds its " +
                                        std::to_string(expected_.size) + " bytes");
  hash_.Update(data, len);
  size_ += len;
  return WriteAll(fd_.get(), data, len, temp_path_);
}

Result<BlobCache> BlobCache::Open(const std::string& cache_dir) {
  std::string dir = JoinPath(cache_dir, "oci");
  BANGER_RETURN_IF_ERROR(MakeDirs(JoinPath(dir, "blobs/sha256")));
  std::string layout = JoinPath(dir, "oci-layout");
  if (!PathExists(layout)) BANGER_RETURN_IF_ERROR(AtomicWriteFile(layout, kLayoutFile));
  std::string index = JoinPath(dir, "index.json");
  if (!PathExists(index)) {
    auto lock = FileLock::Acquire(JoinPath(dir, "index.lock"));
    if (!lock.ok()) return std::move(lock).error();
    if (!PathExists(index))
      BANGER_RETURN_IF_ERROR(
          AtomicWriteFile(index, R"({"schemaVersion":2,"manifests":[]})" "\n"));
  }
  return BlobCache(std::move(dir));
}

std::string BlobCache::BlobPath(std::string_view digest) const {
  return JoinPath(dir_, "blobs/sha256/" + std::string(DigestHex(digest)));
}

Result<bool> BlobCache::Verify(const Descriptor& blob) const {
  BANGER_RETURN_IF_ERROR(CheckDigest(blob.digest, "blob"));
  const std::string path = BlobPath(blob.digest);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    if (errno == ENOENT) return false;
    return Error::FromErrno("open cached blob " + Quote(path));
  }
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return Error::FromErrno("stat " + Quote(path));
  bool good = S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) == blob.size;
  if (good) {
    Sha256 h;
    char buf[1 << 16];
    for (;;) {
      ssize_t n = ::read(fd.get(), buf, sizeof(buf));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Error::FromErrno("read " + Quote(path));
      }
      if (n == 0) break;
      h.Update(buf, n);
    }
    good = h.Finish() == blob.digest;
  }
  if (!good && ::unlink(path.c_str()) != 0 && errno != ENOENT)
    return Error::FromErrno("remove corrupt cached blob " + Quote(path));
  return good;
}

Result<BlobWriter> BlobCache::Begin(const Descriptor& blob) const {
  BANGER_RETURN_IF_ERROR(CheckDigest(blob.digest, "blob"));
  std::string templ = JoinPath(dir_, "blobs/sha256/.partial-XXXXXX");
  int fd = mkostemp(templ.data(), O_CLOEXEC);
  if (fd < 0) return Error::FromErrno("create temp blob in " + Quote(dir_));
  return BlobWriter(UniqueFd(fd), templ, blob);
}

Status BlobCache::Commit(BlobWriter w) const {
  const Descriptor& want = w.expected_;
  if (w.size_ != want.size)
    return Error(Code::kCorruption, "blob " + Quote(want.digest) + ": got " +
                                        std::to_string(w.size_) + " of " +
                                        std::to_string(want.size) + " bytes");
  std::string actual = w.hash_.Finish();
  if (actual != want.digest)
    return Error(Code::kCorruption,
                 "blob " + Quote(want.digest) + ": content has digest " + Quote(actual));
  if (fsync(w.fd_.get()) != 0) return Error::FromErrno("fsync " + Quote(w.temp_path_));
  if (fchmod(w.fd_.get(), 0644) != 0) return Error::FromErrno("chmod " + Quote(w.temp_path_));
  // Another writer may have committed the same blob: identical by digest.
  if (::rename(w.temp_path_.c_str(), BlobPath(want.digest).c_str()) != 0)
    return Error::FromErrno("publish blob " + Quote(want.digest));
  w.temp_path_.clear();
  return SyncDir(Dirname(BlobPath(want.digest)));
}

Status BlobCache::Put(const Descriptor& blob, std::string_view content) const {
  BANGER_ASSIGN_OR_RETURN(BlobWriter w, Begin(blob));
  BANGER_RETURN_IF_ERROR(w.Write(content.data(), content.size()));
  return Commit(std::move(w));
}

Result<std::string> BlobCache::Read(const Descriptor& blob) const {
  BANGER_ASSIGN_OR_RETURN(bool good, Verify(blob));
  if (!good) return NotFound("blob " + Quote(blob.digest) + " is not in the cache");
  return ReadFile(BlobPath(blob.digest));
}

Status BlobCache::Tag(const Descriptor& manifest, const std::string& ref_name) const {
  const std::string index_path = JoinPath(dir_, "index.json");
  BANGER_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(JoinPath(dir_, "index.lock")));
  BANGER_ASSIGN_OR_RETURN(std::string text, ReadFile(index_path));
  try {
    json doc = json::parse(text);
    json kept = json::array();
    for (auto& m : doc.at("manifests")) {
      auto ann = m.find("annotations");
      if (ann != m.end() && ann->value(kRefAnnotation, "") == ref_name) continue;
      kept.push_back(m);
    }
    json entry = {{"mediaType", manifest.media_type},
                  {"digest", manifest.digest},
                  {"size", manifest.size},
                  {"annotations", {{kRefAnnotation, ref_name}}}};
    if (manifest.platform) {
      entry["platform"] = {{"os", manifest.platform->os},
                           {"architecture", manifest.platform->architecture}};
      if (!manifest.platform->variant.empty())
        entry["platform"]["variant"] = manifest.platform->variant;
    }
    kept.push_back(std::move(entry));
    doc["manifests"] = std::move(kept);
    return AtomicWriteFile(index_path, doc.dump(2) + "\n");
  } catch (const json::exception& e) {
    return Error(Code::kCorruption, "cache index " + Quote(index_path) + ": " + e.what());
  }
}

Result<std::optional<Descriptor>> BlobCache::Lookup(const std::string& ref_name) const {
  const std::string index_path = JoinPath(dir_, "index.json");
  BANGER_ASSIGN_OR_RETURN(std::string text, ReadFile(index_path));
  try {
    json doc = json::parse(text);
    for (const auto& m : doc.at("manifests")) {
      auto ann = m.find("annotations");
      if (ann == m.end() || ann->value(kRefAnnotation, "") != ref_name) continue;
      Descriptor d;
      d.media_type = m.value("mediaType", "");
      d.digest = m.value("digest", "");
      d.size = m.value("size", uint64_t{0});
      if (!IsValidDigest(d.digest)) break;
      return std::optional<Descriptor>(d);
    }
    return std::optional<Descriptor>();
  } catch (const json::exception& e) {
    return Error(Code::kCorruption, "cache index " + Quote(index_path) + ": " + e.what());
  }
}

}  // namespace banger::oci
