#include "reconciler/kernel/file_kernel_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>

#include "reconciler/kernel/digest.h"
#include "reconciler/kernel/http_download.h"
#include "reconciler/kernel/kernel_assembler.h"
#include "reconciler/kernel/kernel_bundle.h"
#include "reconciler/kernel/kernel_catalog.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/owned_dir.h"
#include "reconciler/os/unique_fd.h"

namespace banger::kernel {
namespace {

constexpr char kWorkPrefix[] = "kernel-";

// A Debian package is an ar archive whose first member is "debian-binary".
bool IsDebFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return false;
  char head[72];
  ssize_t n = ::pread(fd.get(), head, sizeof head, 0);
  if (n < 21) return false;
  std::string_view h(head, static_cast<size_t>(n));
  return h.substr(0, 8) == "!<arch>\n" && h.substr(8, 13) == "debian-binary";
}

// Whether the entry's file is still what its manifest says, without
// following links: a regular file of that size, or a link with that target.
bool StillMatches(const std::string& dir, const ManifestFile& f) {
  const std::string path = JoinPath(dir, f.path);
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return false;
  if (f.is_link()) {
    if (!S_ISLNK(st.st_mode)) return false;
    std::string target(f.link.size() + 1, '\0');
    ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
    return n >= 0 && static_cast<size_t>(n) == f.link.size() && target.compare(0, n, f.link) == 0;
  }
  return S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) == f.size;
}

std::string Expand(const std::string& path) { return ExpandTilde(path, HomeDir()); }

}  // namespace

KernelBootFiles BootFiles(const model::KernelRecord& record) {
  KernelBootFiles f;
  f.vmlinuz = JoinPath(record.dir, "vmlinuz");
  if (PathExists(JoinPath(record.dir, "vmlinux"))) f.vmlinux = JoinPath(record.dir, "vmlinux");
  if (PathExists(JoinPath(record.dir, "initrd.img"))) f.initrd = JoinPath(record.dir, "initrd.img");
  return f;
}

std::vector<std::string> FileKernelStore::StagingPrefixes() { return {kWorkPrefix}; }
std::vector<std::string> FileKernelStore::CachePrefixes() {
  return {kDownloadPartPrefix, kAptDownloadPrefix};
}

FileKernelStore::FileKernelStore(std::string kernels_dir, std::string staging_dir,
                                 std::string cache_dir, CommandRunner& runner)
    : kernels_dir_(std::move(kernels_dir)), staging_dir_(std::move(staging_dir)),
      cache_dir_(std::move(cache_dir)), runner_(runner) {}

Result<model::KernelRecord> FileKernelStore::Build(const specs::KernelSpec& spec,
                                                   const specs::Settings& settings,
                                                   apply::StepProgress& progress) {
  const std::string what = "kernel " + Quote(spec.name);
  BANGER_RETURN_IF_ERROR(MakeDirs(kernels_dir_));
  BANGER_RETURN_IF_ERROR(MakeDirs(staging_dir_));
  // Everything below lives in `work` until Publish moves `out` into the
  // store; any failure removes it all.
  BANGER_ASSIGN_OR_RETURN(OwnedDir work, OwnedDir::Create(staging_dir_, kWorkPrefix));
  const std::string out = JoinPath(work.path(), "out");
  const std::string scratch = JoinPath(work.path(), "scratch");
  BANGER_RETURN_IF_ERROR(MakeDirs(out));
  BANGER_RETURN_IF_ERROR(MakeDirs(scratch));

  DebianPackages packages(runner_, JoinPath(cache_dir_, "debs"));
  KernelAssembler assembler(packages, scratch, out,
                            [&progress](const std::string& m) { progress.Note(m); });
  DownloadOptions download;
  download.on_progress = [&progress](uint64_t got, uint64_t total) {
    progress.Note("downloaded " + std::to_string(got >> 20) + "/" +
                  std::to_string(total >> 20) + " MiB");
  };

  // A downloaded file is either a Debian kernel package or a bundle.
  auto from_download = [&](const std::string& url, const std::string& sha256,
                           std::string* source) -> Result<AssembledKernel> {
    progress.Note("fetching " + url);
    BANGER_ASSIGN_OR_RETURN(std::string file,
                            FetchVerified(url, sha256, JoinPath(cache_dir_, "downloads"), download));
    if (IsDebFile(file)) {
      *source += " (deb)";
      return assembler.FromDeb(file);
    }
    const std::string bundle_dir = JoinPath(scratch, "bundle");
    BANGER_RETURN_IF_ERROR(MakeDirs(bundle_dir));
    BANGER_ASSIGN_OR_RETURN(KernelBundle bundle, ExtractKernelBundle(file, bundle_dir));
    return assembler.FromFiles(
        KernelInputs{bundle.kernel, bundle.initrd, bundle.modules_dir, bundle.vmlinux});
  };

  std::string source;
  Result<AssembledKernel> built = Internal("unhandled kernel source");
  switch (spec.source) {
    case specs::KernelSource::kDeb: {
      progress.Note("resolving " + spec.deb);
      auto pkg = packages.ResolveKernelPackage(spec.deb);
      if (!pkg.ok()) return pkg.error().WithContext(what);
      progress.Note("fetching " + *pkg);
      auto deb = packages.Fetch(*pkg);
      if (!deb.ok()) return deb.error().WithContext(what);
      source = "deb " + spec.deb + " -> " + Basename(*deb);
      built = assembler.FromDeb(*deb);
      break;
    }
    case specs::KernelSource::kPath:
      source = "path " + spec.path_kernel;
      built = assembler.FromFiles(KernelInputs{Expand(spec.path_kernel), Expand(spec.path_initrd),
                                               Expand(spec.path_modules), ""});
      break;
    case specs::KernelSource::kUrl:
      source = "url " + spec.url;
      built = from_download(spec.url, spec.sha256, &source);
      break;
    case specs::KernelSource::kCatalog: {
      auto catalog = LoadCatalog(settings.kernel_catalog);
      if (!catalog.ok()) return catalog.error().WithContext(what);
      auto entry = FindCatalogEntry(*catalog, spec.catalog);
      if (!entry.ok()) return entry.error().WithContext(what);
      source = "catalog " + entry->name + " (" + entry->origin + ") " + entry->url;
      built = from_download(entry->url, entry->sha256, &source);
      break;
    }
  }
  if (!built.ok()) return built.error().WithContext(what);
  auto record = Publish(spec, out, built->version, source);
  if (!record.ok()) return record.error().WithContext(what);
  return record;
}

Result<model::KernelRecord> FileKernelStore::Publish(const specs::KernelSpec& spec,
                                                     const std::string& out,
                                                     const std::string& version,
                                                     const std::string& source) {
  KernelManifest manifest;
  BANGER_ASSIGN_OR_RETURN(manifest.files, HashTree(out));
  manifest.version = version;
  manifest.source = source;
  manifest.created_unix = static_cast<int64_t>(::time(nullptr));
  const std::string digest = ContentDigest(manifest.files);
  BANGER_RETURN_IF_ERROR(AtomicWriteFile(JoinPath(out, "manifest.json"), ManifestJson(manifest)));

  model::KernelRecord record;
  record.spec = spec;
  record.origin = model::Origin::kSpec;
  record.digest = digest;
  record.dir = JoinPath(kernels_dir_, digest);
  record.version = version;
  record.created_unix = manifest.created_unix;

  if (PathExists(record.dir) && !Present(record)) {
    // A damaged entry (files removed by hand) is replaced, not trusted.
    BANGER_RETURN_IF_ERROR(RemoveTree(record.dir));
  }
  auto renamed = RenameNoReplace(out, record.dir);
  if (!renamed.ok()) {
    if (!Present(record)) return renamed.error().WithContext("publish " + Quote(record.dir));
  }
  BANGER_RETURN_IF_ERROR(SyncDir(kernels_dir_));
  // A reused entry keeps its own manifest (its creation time).
  if (auto existing = ReadEntry(digest); existing.ok()) {
    record.created_unix = existing->manifest.created_unix;
    record.version = existing->manifest.version;
  }
  return record;
}

Status FileKernelStore::Remove(const model::KernelRecord& record) {
  const std::string dir = JoinPath(kernels_dir_, record.digest);
  if (!IsSha256Hex(record.digest)) {
    return InvalidArgument("remove kernel " + Quote(record.spec.name) + ": bad digest " +
                           Quote(record.digest));
  }
  auto st = RemoveTree(dir);
  if (!st.ok()) return st.error().WithContext("remove kernel " + Quote(record.spec.name));
  return SyncDir(kernels_dir_);
}

bool FileKernelStore::Present(const model::KernelRecord& record) {
  if (!IsSha256Hex(record.digest)) return false;
  auto entry = ReadEntry(record.digest);
  if (!entry.ok()) return false;
  const ManifestFile* kernel = entry->manifest.Find("vmlinuz");
  if (!kernel || kernel->is_link()) return false;
  for (const auto& f : entry->manifest.files) {
    if (!StillMatches(entry->dir, f)) return false;
  }
  return ContentDigest(entry->manifest.files) == record.digest;
}

Result<StoredKernel> FileKernelStore::ReadEntry(const std::string& digest) const {
  StoredKernel k;
  k.digest = digest;
  k.dir = JoinPath(kernels_dir_, digest);
  const std::string path = JoinPath(k.dir, "manifest.json");
  BANGER_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  BANGER_ASSIGN_OR_RETURN(k.manifest, ParseManifest(text, path));
  return k;
}

Result<std::vector<StoredKernel>> FileKernelStore::List() const {
  std::vector<StoredKernel> out;
  if (!IsDirectory(kernels_dir_)) return out;
  BANGER_ASSIGN_OR_RETURN(auto names, ListDir(kernels_dir_));
  for (const auto& name : names) {
    if (!IsSha256Hex(name)) continue;  // staging leftovers, foreign files
    auto entry = ReadEntry(name);
    if (entry.ok()) out.push_back(std::move(*entry));
  }
  std::stable_sort(out.begin(), out.end(), [](const StoredKernel& a, const StoredKernel& b) {
    return a.manifest.created_unix > b.manifest.created_unix;
  });
  return out;
}

Result<StoredKernel> FileKernelStore::Show(const std::string& digest) const {
  const std::string want = LowerHex(digest);
  if (want.size() < 8) return InvalidArgument("kernel digest " + Quote(digest) + ": give at least 8 hex digits");
  BANGER_ASSIGN_OR_RETURN(auto all, List());
  const StoredKernel* found = nullptr;
  for (const auto& k : all) {
    if (k.digest.compare(0, want.size(), want) != 0) continue;
    if (found) return InvalidArgument("kernel digest " + Quote(digest) + " is ambiguous");
    found = &k;
  }
  if (!found) return NotFound("no kernel " + Quote(digest) + " in " + Quote(kernels_dir_));
  return *found;
}

}  // namespace banger::kernel
