#include "reconciler/kernel/kernel_manifest.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>

#include "reconciler/kernel/digest.h"

namespace banger::kernel {

const ManifestFile* KernelManifest::Find(std::string_view path) const {
  for (const auto& f : files) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

std::string ManifestJson(const KernelManifest& m) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& f : m.files) {
    nlohmann::json entry = {{"path", f.path}, {"sha256", f.sha256}, {"size", f.size}};
    if (f.is_link()) entry["link"] = f.link;
    files.push_back(std::move(entry));
  }
  nlohmann::json doc = {{"version", m.version},
                        {"source", m.source},
                        {"created_unix", m.created_unix},
                        {"files", files}};
  return doc.dump(2) + "\n";
}

Result<KernelManifest> ParseManifest(std::string_view json, const std::string& origin) {
  const std::string where = "kernel manifest " + Quote(origin);
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Error(Code::kCorruption, where + ": not a JSON object");
  }
  KernelManifest m;
  auto str = [&](const char* key, std::string& out) -> Status {
    auto it = doc.find(key);
    if (it == doc.end() || !it->is_string()) {
      return Error(Code::kCorruption, where + ": " + Quote(key) + " missing or not a string");
    }
    out = it->get<std::string>();
    return OkStatus();
  };
  BANGER_RETURN_IF_ERROR(str("version", m.version));
  BANGER_RETURN_IF_ERROR(str("source", m.source));
  auto created = doc.find("created_unix");
  if (created == doc.end() || !created->is_number_integer()) {
    return Error(Code::kCorruption, where + ": 'created_unix' missing or not an integer");
  }
  m.created_unix = created->get<int64_t>();
  auto files = doc.find("files");
  if (files == doc.end() || !files->is_array()) {
    return Error(Code::kCorruption, where + ": 'files' missing or not an array");
  }
  for (const auto& f : *files) {
    if (!f.is_object() || !f.contains("path") || !f["path"].is_string() ||
        !f.contains("sha256") || !f["sha256"].is_string() || !f.contains("size") ||
        !f["size"].is_number_unsigned()) {
      return Error(Code::kCorruption, where + ": malformed entry in 'files'");
    }
    ManifestFile mf{f["path"].get<std::string>(), f["sha256"].get<std::string>(),
                    f["size"].get<uint64_t>(), ""};
    if (auto link = f.find("link"); link != f.end()) {
      if (!link->is_string() || link->get<std::string>().empty()) {
        return Error(Code::kCorruption, where + ": 'link' of " + Quote(mf.path) +
                                            " is not a non-empty string");
      }
      mf.link = link->get<std::string>();
    }
    if (mf.path.empty() || mf.path[0] == '/' || mf.path.find("..") != std::string::npos) {
      return Error(Code::kCorruption, where + ": bad file path " + Quote(mf.path));
    }
    m.files.push_back(std::move(mf));
  }
  return m;
}

Result<std::vector<ManifestFile>> HashTree(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<ManifestFile> out;
  std::error_code ec;
  // The iterator does not descend into directory symlinks; symlink_status
  // below never resolves a link either.
  fs::recursive_directory_iterator it(dir, ec), end;
  if (ec) return Error(Code::kIo, "scan " + Quote(dir) + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return Error(Code::kIo, "scan " + Quote(dir) + ": " + ec.message());
    const std::string path = it->path().string();
    fs::file_status st = it->symlink_status(ec);
    if (ec) return Error(Code::kIo, "stat " + Quote(path) + ": " + ec.message());
    if (fs::is_directory(st)) continue;
    ManifestFile f;
    // Lexically: fs::relative would resolve a link to its target.
    f.path = it->path().lexically_relative(dir).generic_string();
    if (fs::is_symlink(st)) {
      f.link = fs::read_symlink(it->path(), ec).string();
      if (ec) return Error(Code::kIo, "readlink " + Quote(path) + ": " + ec.message());
      f.size = f.link.size();
      f.sha256 = Sha256Hex(f.link);
    } else if (fs::is_regular_file(st)) {
      f.size = it->file_size(ec);
      if (ec) return Error(Code::kIo, "stat " + Quote(path) + ": " + ec.message());
      BANGER_ASSIGN_OR_RETURN(f.sha256, FileSha256(path));
    } else {
      return Error(Code::kCorruption, Quote(path) + " is not a file, directory or symlink");
    }
    out.push_back(std::move(f));
  }
  std::sort(out.begin(), out.end(),
            [](const ManifestFile& a, const ManifestFile& b) { return a.path < b.path; });
  return out;
}

std::string ContentDigest(const std::vector<ManifestFile>& files) {
  Sha256 h;
  for (const auto& f : files) {
    h.Update((f.is_link() ? "link " : "") + f.sha256 + " " + std::to_string(f.size) + " " +
             f.path + "\n");
  }
  return h.HexDigest();
}

}  // namespace banger::kernel
