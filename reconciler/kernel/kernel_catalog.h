// The kernel catalog: named kernels that `[[kernel]] catalog = NAME` and
// `banger kernel catalog` refer to.
//
// A default catalog is compiled in; `settings.kernel_catalog` names a JSON
// file whose entries override the defaults by name and add new ones:
//
//   {"kernels": [{"name": "debian-cloud", "version": "6.1.0-56-cloud-amd64",
//                 "url": "https://.../kernel.tar.zst", "sha256": "ab12..."}]}
//
// A URL whose content is a Debian package (an ar archive that starts with
// "debian-binary") is unpacked and given an initramfs like `deb = ...`;
// anything else must be a .tar.zst kernel bundle. The store decides by
// content after the sha256 check, not by the URL's name.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "reconciler/base/error.h"

namespace banger::kernel {

struct CatalogEntry {
  std::string name;
  std::string version;  // kernel release, informational
  std::string url;
  std::string sha256;   // lowercase hex
  std::string origin;   // "builtin" or the catalog file it came from

  // By the URL's name (".deb"), for listings.
  bool is_deb() const;
};

// The compiled-in catalog text.
std::string_view DefaultCatalogJson();

// Parses catalog JSON. Unknown keys, missing fields, duplicate names, a
// non-http(s) URL or a malformed sha256 fail with the origin and entry.
Result<std::vector<CatalogEntry>> ParseCatalog(std::string_view json, const std::string& origin);

// The default catalog with `extra_path` (if not empty; "~" expanded)
// layered on top: same name replaces, new names are appended.
Result<std::vector<CatalogEntry>> LoadCatalog(const std::string& extra_path);

// Merges `overrides` into `base` by name (pure; used by LoadCatalog).
std::vector<CatalogEntry> MergeCatalogs(std::vector<CatalogEntry> base,
                                        const std::vector<CatalogEntry>& overrides);

Result<CatalogEntry> FindCatalogEntry(const std::vector<CatalogEntry>& catalog,
                                      const std::string& name);

}  // namespace banger::kernel
