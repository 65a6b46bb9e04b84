#include "reconciler/kernel/debian_packages.h"

#include <cctype>
#include <cstdio>

#include "reconciler/kernel/digest.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/owned_dir.h"

namespace banger::kernel {
namespace {

constexpr auto kAptTimeout = std::chrono::minutes(15);

std::string Trim(std::string_view s) {
  while (!s.empty() && isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// A safe single path component (apt writes names like x_1%3a2.0_amd64.deb).
bool IsPlainFileName(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
}

}  // namespace

Result<AptPackageFile> ParsePrintUris(std::string_view output, const std::string& package) {
  const std::string what = "apt-get download --print-uris " + Quote(package);
  size_t pos = 0;
  while (pos < output.size()) {
    size_t eol = output.find('\n', pos);
    if (eol == std::string_view::npos) eol = output.size();
    std::string_view line = output.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.empty() || line[0] != '\'') continue;
    size_t close = line.find('\'', 1);
    if (close == std::string_view::npos) continue;
    AptPackageFile f;
    f.uri = std::string(line.substr(1, close - 1));
    char name[512], hash[160];
    unsigned long long size = 0;
    std::string rest(line.substr(close + 1));
    if (sscanf(rest.c_str(), " %511s %llu %159s", name, &size, hash) != 3) {
      return Error(Code::kCorruption, what + ": cannot parse " + Quote(std::string(line)));
    }
    f.filename = name;
    f.size = size;
    std::string h = hash;
    if (h.compare(0, 7, "SHA256:") != 0 || !IsSha256Hex(h.substr(7))) {
      return Error(Code::kCorruption, what + ": no SHA256 in " + Quote(std::string(line)));
    }
    f.sha256 = LowerHex(h.substr(7));
    if (!IsPlainFileName(f.filename)) {
      return Error(Code::kCorruption, what + ": unusable file name " + Quote(f.filename));
    }
    return f;
  }
  return NotFound(what + ": apt printed no download URI (unknown package?)");
}

std::string KernelImageDependency(std::string_view show) {
  size_t pos = 0;
  while (pos < show.size()) {
    size_t eol = show.find('\n', pos);
    if (eol == std::string_view::npos) eol = show.size();
    std::string_view line = show.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.substr(0, 8) != "Depends:") continue;
    std::string_view deps = line.substr(8);
    // "a (>= 1), b | c, ..." : alternatives and version constraints are
    // irrelevant here; the first linux-image-<digit> name is the kernel.
    size_t start = 0;
    while (start < deps.size()) {
      size_t end = deps.find_first_of(",|", start);
      if (end == std::string_view::npos) end = deps.size();
      std::string item = Trim(deps.substr(start, end - start));
      item = item.substr(0, item.find_first_of(" (:"));
      if (item.size() > 12 && item.compare(0, 12, "linux-image-") == 0 &&
          isdigit(static_cast<unsigned char>(item[12]))) {
        return item;
      }
      start = end + 1;
    }
    return "";
  }
  return "";
}

Result<std::string> DebianPackages::ResolveKernelPackage(const std::string& package) {
  std::string name = package;
  // Metapackages may chain (linux-image-amd64 -> linux-image-6.1.0-x-amd64);
  // a few hops is plenty.
  for (int hop = 0; hop < 4; ++hop) {
    ExecRequest req;
    req.argv = {"apt-cache", "show", "--no-all-versions", name};
    req.timeout = std::chrono::minutes(2);
    BANGER_ASSIGN_OR_RETURN(ExecResult r, runner_.Run(req));
    if (!r.success()) {
      return NotFound("resolve kernel package " + Quote(package) + ": apt-cache show " +
                      Quote(name) + " failed: " + Trim(r.err));
    }
    std::string next = KernelImageDependency(r.out);
    if (next.empty() || next == name) return name;
    name = next;
  }
  return Error(Code::kCorruption, "resolve kernel package " + Quote(package) +
                                      ": too many metapackage hops");
}

Result<AptPackageFile> DebianPackages::DownloadInfo(const std::string& package) {
  ExecRequest req;
  req.argv = {"apt-get", "download", "--print-uris", package};
  req.timeout = std::chrono::minutes(2);
  BANGER_ASSIGN_OR_RETURN(ExecResult r, runner_.Run(req));
  if (!r.success()) {
    return NotFound("apt-get download --print-uris " + Quote(package) + ": " + Trim(r.err));
  }
  return ParsePrintUris(r.out, package);
}

Result<std::string> DebianPackages::Fetch(const std::string& package) {
  BANGER_ASSIGN_OR_RETURN(AptPackageFile info, DownloadInfo(package));
  BANGER_RETURN_IF_ERROR(MakeDirs(debs_dir_));
  const std::string cached = JoinPath(debs_dir_, info.filename);
  if (PathExists(cached)) {
    auto sum = FileSha256(cached);
    if (sum.ok() && *sum == info.sha256) return cached;
    BANGER_RETURN_IF_ERROR(RemoveTree(cached));
  }
  // apt-get writes into its working directory; a private one keeps a
  // failed or concurrent download from ever looking like a cached file.
  BANGER_ASSIGN_OR_RETURN(OwnedDir tmp, OwnedDir::Create(debs_dir_, kAptDownloadPrefix));
  ExecRequest req;
  req.argv = {"apt-get", "download", "-q", package};
  req.cwd = tmp.path();
  req.timeout = kAptTimeout;
  auto ran = RunChecked(runner_, req);
  if (!ran.ok()) return ran.error().WithContext("download package " + Quote(package));
  const std::string got = JoinPath(tmp.path(), info.filename);
  auto sum = FileSha256(got);
  if (!sum.ok()) return sum.error().WithContext("download package " + Quote(package));
  if (*sum != info.sha256) {
    return Error(Code::kCorruption, "download " + Quote(info.uri) + ": sha256 mismatch: expected " +
                                        info.sha256 + ", got " + *sum);
  }
  // Losing a race to a concurrent fetch of the same file is fine: it was
  // verified the same way.
  auto renamed = RenameNoReplace(got, cached);
  if (!renamed.ok() && !PathExists(cached)) {
    return renamed.error().WithContext("download package " + Quote(package));
  }
  return cached;
}

Status DebianPackages::Unpack(const std::string& deb, const std::string& dest) {
  ExecRequest req;
  req.argv = {"dpkg-deb", "-x", deb, dest};
  req.timeout = std::chrono::minutes(5);
  auto r = RunChecked(runner_, req);
  if (!r.ok()) return r.error().WithContext("unpack " + Quote(deb));
  return OkStatus();
}

Result<std::string> DebianPackages::StaticBusybox(const std::string& scratch) {
  BANGER_ASSIGN_OR_RETURN(std::string deb, Fetch("busybox-static"));
  const std::string dir = JoinPath(scratch, "busybox-static");
  BANGER_RETURN_IF_ERROR(MakeDirs(dir));
  BANGER_RETURN_IF_ERROR(Unpack(deb, dir));
  const std::string bin = JoinPath(dir, "bin/busybox");
  BANGER_ASSIGN_OR_RETURN(std::string data, ReadFile(bin));
  if (data.compare(0, 4, "\x7f" "ELF") != 0) {
    return Error(Code::kCorruption, Quote(bin) + " from busybox-static is not an ELF binary");
  }
  return data;
}

}  // namespace banger::kernel
