// [[kernel]] and [[image]]: a name and exactly one source each.
#include <cctype>

#include "specs/decoders.h"
#include "specs/features.h"
#include "specs/value_rules.h"

namespace banger::specs {
namespace {

// "deb", "deb and path", "deb, path and url".
std::string JoinAnd(const std::vector<std::string>& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? " and " : ", ";
    out += words[i];
  }
  return out;
}

// Which of `sources` the table sets, in the order listed. None is reported
// against the table; several are reported at each conflicting key's own
// line, so every one of them can be found.
std::vector<std::string> PresentSources(TableReader& t, const std::vector<std::string>& sources) {
  std::vector<std::string> present;
  for (const auto& s : sources)
    if (t.Has(s)) present.push_back(s);
  std::string all;
  for (size_t i = 0; i < sources.size(); ++i) all += (i ? ", " : "") + sources[i];
  if (present.empty()) t.TableError("exactly one source of " + all + "; found none");
  if (present.size() > 1) {
    for (const auto& key : present) {
      std::vector<std::string> others;
      for (const auto& o : present)
        if (o != key) others.push_back(o);
      t.ValueError(key, "conflicts with " + JoinAnd(others) + ": exactly one source of " + all);
    }
  }
  return present;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A key that only means something next to `with`, e.g. sha256 with url.
void RequireCompanion(TableReader& t, std::string_view key, std::string_view with) {
  if (t.Has(key) && !t.Has(with))
    t.ValueError(key, std::string(key) + " is only valid with " + std::string(with));
}

void DecodeKernelPath(TableReader& t, const std::string& base_dir, KernelSpec* k) {
  const toml::table* table = t.Table("path");
  if (!table) return;
  TableReader path(*table, t.KeyPath("path"), t.sink());
  path.RejectUnknownKeys(KnownKeys().at("kernel.path"));
  if (auto kernel = path.String("kernel", /*required=*/true))
    k->path_kernel = ResolveHostPath(*kernel, base_dir);
  if (auto initrd = path.String("initrd")) k->path_initrd = ResolveHostPath(*initrd, base_dir);
  if (auto modules = path.String("modules"))
    k->path_modules = ResolveHostPath(*modules, base_dir);
}

void DecodeDebootstrap(TableReader& t, ImageSpec* image) {
  const toml::table* table = t.Table("debootstrap");
  if (!table) return;
  TableReader d(*table, t.KeyPath("debootstrap"), t.sink());
  d.RejectUnknownKeys(KnownKeys().at("image.debootstrap"));
  if (auto suite = d.String("suite", /*required=*/true);
      suite && d.Check("suite", CheckSuite(*suite)))
    image->suite = *suite;
  if (auto mirror = d.String("mirror"); mirror && d.Check("mirror", CheckUrl(*mirror, false)))
    image->mirror = *mirror;
  if (auto include = d.StringArray("include")) {
    for (const auto& [index, package] : *include) {
      Status st = CheckPackageName(package);
      if (!st.ok())
        d.ElementError("include", index, st.error().message());
      else
        image->include.push_back(package);
    }
  }
}

}  // namespace

std::optional<KernelSpec> DecodeKernel(TableReader& t, const std::string& base_dir) {
  KernelSpec k;
  std::optional<std::string> name = DecodeName(t, "kernel");
  std::vector<std::string> sources = PresentSources(t, {"deb", "path", "url", "catalog"});

  if (auto deb = t.String("deb"); deb && t.Check("deb", CheckPackageName(*deb))) k.deb = *deb;
  DecodeKernelPath(t, base_dir, &k);
  if (auto url = t.String("url"); url && t.Check("url", CheckUrl(*url, /*https_only=*/true)))
    k.url = *url;
  if (t.Has("url") && !t.Has("sha256"))
    t.TableError("missing required key 'sha256': a url source needs the bundle's checksum");
  RequireCompanion(t, "sha256", "url");
  if (auto sha = t.String("sha256"); sha && t.Check("sha256", CheckSha256(*sha)))
    k.sha256 = Lower(*sha);
  if (auto catalog = t.String("catalog"); catalog && t.Check("catalog", CheckCatalogName(*catalog)))
    k.catalog = *catalog;

  if (sources.size() == 1) {
    const std::string& s = sources[0];
    k.source = s == "deb"    ? KernelSource::kDeb
               : s == "path" ? KernelSource::kPath
               : s == "url"  ? KernelSource::kUrl
                             : KernelSource::kCatalog;
    if (!KernelSourceAvailable(k.source))
      t.ValueError(s, std::string(KernelSourceNoun(k.source)) + " are not available in this build");
  }
  if (!name) return std::nullopt;
  k.name = *name;
  return k;
}

std::optional<ImageSpec> DecodeImage(TableReader& t, const std::string& base_dir) {
  ImageSpec image;
  std::optional<std::string> name = DecodeName(t, "image");
  std::vector<std::string> sources = PresentSources(t, {"oci", "dir", "tar", "debootstrap"});

  if (auto oci = t.String("oci"); oci && t.Check("oci", CheckOciReference(*oci)))
    image.oci = *oci;
  RequireCompanion(t, "platform", "oci");
  RequireCompanion(t, "insecure", "oci");
  if (auto platform = t.String("platform");
      platform && t.Check("platform", CheckPlatform(*platform)))
    image.platform = *platform;
  if (auto insecure = t.Bool("insecure")) image.insecure = *insecure;
  if (auto dir = t.String("dir", /*required=*/t.Has("dir")))
    image.dir = ResolveHostPath(*dir, base_dir);
  if (auto tar = t.String("tar", /*required=*/t.Has("tar")))
    image.tar = ResolveHostPath(*tar, base_dir);
  DecodeDebootstrap(t, &image);
  if (auto size = t.Size("size", 64 * kMiB)) image.size = *size;

  if (sources.size() == 1) {
    const std::string& s = sources[0];
    image.source = s == "oci"   ? ImageSource::kOci
                   : s == "dir" ? ImageSource::kDir
                   : s == "tar" ? ImageSource::kTar
                                : ImageSource::kDebootstrap;
    if (!ImageSourceAvailable(image.source))
      t.ValueError(s, std::string(ImageSourceNoun(image.source)) + " are not available in this build");
  }
  if (!name) return std::nullopt;
  image.name = *name;
  return image;
}

}  // namespace banger::specs
