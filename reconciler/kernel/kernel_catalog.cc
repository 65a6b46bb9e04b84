#include "reconciler/kernel/kernel_catalog.h"

#include <nlohmann/json.hpp>

#include <set>

#include "reconciler/kernel/digest.h"
#include "reconciler/os/fs.h"

namespace banger::kernel {
namespace {

// Entries follow the Debian archive: URL and sha256 are the `Filename` and
// `SHA256` fields of `apt-cache show linux-image-<release>-cloud-amd64`
// for the current bookworm (security) cloud kernel. The archive drops
// superseded kernels from its pool, so when a URL stops resolving, update
// the entry from `apt-cache show` again (or override it in
// settings.kernel_catalog).
constexpr std::string_view kDefaultCatalog = R"json({
  "kernels": [
    {
      "name": "debian-bookworm-cloud-amd64",
      "version": "6.1.0-56-cloud-amd64",
      "url": "http://deb.debian.org/debian-security/pool/updates/main/l/linux-signed-amd64/linux-image-6.1.0-56-cloud-amd64_6.1.192-2_amd64.deb",
      "sha256": "e7d02b943971edcb8790e256c02cfab3bca6c3d37c1bf25392a57c71300615ee"
    }
  ]
}
)json";

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

bool CatalogEntry::is_deb() const {
  std::string path = url.substr(0, url.find_first_of("?#"));
  return EndsWith(path, ".deb");
}

std::string_view DefaultCatalogJson() { return kDefaultCatalog; }

Result<std::vector<CatalogEntry>> ParseCatalog(std::string_view text, const std::string& origin) {
  const std::string where = "kernel catalog " + Quote(origin);
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgument(where + ": not valid JSON");
  if (!doc.is_object()) return InvalidArgument(where + ": top level must be an object");
  for (const auto& [key, value] : doc.items()) {
    if (key != "kernels") return InvalidArgument(where + ": unknown key " + Quote(key));
  }
  if (!doc.contains("kernels") || !doc["kernels"].is_array()) {
    return InvalidArgument(where + ": \"kernels\" must be an array");
  }
  std::vector<CatalogEntry> out;
  std::set<std::string> names;
  int index = 0;
  for (const auto& item : doc["kernels"]) {
    const std::string at = where + ": kernels[" + std::to_string(index++) + "]";
    if (!item.is_object()) return InvalidArgument(at + ": must be an object");
    CatalogEntry e;
    e.origin = origin;
    for (const auto& [key, value] : item.items()) {
      std::string* field = key == "name"      ? &e.name
                           : key == "version" ? &e.version
                           : key == "url"     ? &e.url
                           : key == "sha256"  ? &e.sha256
                                              : nullptr;
      if (!field) return InvalidArgument(at + ": unknown key " + Quote(key));
      if (!value.is_string()) return InvalidArgument(at + ": " + Quote(key) + " must be a string");
      *field = value.get<std::string>();
    }
    for (const auto& [key, value] : {std::pair<const char*, const std::string*>{"name", &e.name},
                                     {"version", &e.version}, {"url", &e.url},
                                     {"sha256", &e.sha256}}) {
      if (value->empty()) return InvalidArgument(at + ": missing " + Quote(key));
    }
    if (e.url.compare(0, 7, "http://") != 0 && e.url.compare(0, 8, "https://") != 0) {
      return InvalidArgument(at + " " + Quote(e.name) + ": url must be http:// or https://");
    }
    if (!IsSha256Hex(e.sha256)) {
      return InvalidArgument(at + " " + Quote(e.name) + ": sha256 must be 64 hex digits");
    }
    e.sha256 = LowerHex(e.sha256);
    if (!names.insert(e.name).second) {
      return InvalidArgument(at + ": duplicate name " + Quote(e.name));
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<CatalogEntry> MergeCatalogs(std::vector<CatalogEntry> base,
                                        const std::vector<CatalogEntry>& overrides) {
  for (const auto& o : overrides) {
    bool replaced = false;
    for (auto& b : base) {
      if (b.name == o.name) {
        b = o;
        replaced = true;
        break;
      }
    }
    if (!replaced) base.push_back(o);
  }
  return base;
}

Result<std::vector<CatalogEntry>> LoadCatalog(const std::string& extra_path) {
  BANGER_ASSIGN_OR_RETURN(auto catalog, ParseCatalog(kDefaultCatalog, "builtin"));
  if (extra_path.empty()) return catalog;
  const std::string path = ExpandTilde(extra_path, HomeDir());
  auto text = ReadFile(path);
  if (!text.ok()) return text.error().WithContext("kernel catalog");
  BANGER_ASSIGN_OR_RETURN(auto extra, ParseCatalog(*text, path));
  return MergeCatalogs(std::move(catalog), extra);
}

Result<CatalogEntry> FindCatalogEntry(const std::vector<CatalogEntry>& catalog,
                                      const std::string& name) {
  for (const auto& e : catalog) {
    if (e.name == name) return e;
  }
  std::string known;
  for (const auto& e : catalog) known += (known.empty() ? "" : ", ") + e.name;
  return NotFound("kernel catalog has no entry " + Quote(name) + " (known: " + known + ")");
}

}  // namespace banger::kernel
