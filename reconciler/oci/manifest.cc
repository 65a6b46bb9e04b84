#include "reconciler/oci/manifest.h"

#include <nlohmann/json.hpp>

#include "reconciler/oci/reference.h"

namespace banger::oci {

namespace {

using nlohmann::json;
using namespace media;

constexpr std::string_view kDockerSchema1 = "application/vnd.docker.distribution.manifest.v1";

bool IsLayerMediaType(std::string_view t) {
  return t == "application/vnd.oci.image.layer.v1.tar" ||
         t == "application/vnd.oci.image.layer.v1.tar+gzip" ||
         t == "application/vnd.oci.image.layer.v1.tar+zstd" ||
         t == "application/vnd.docker.image.rootfs.diff.tar.gzip" ||
         t == "application/vnd.docker.image.rootfs.diff.tar";
}

bool IsForeignMediaType(std::string_view t) {
  return t.find("foreign") != std::string_view::npos ||
         t.find("nondistributable") != std::string_view::npos;
}

Result<json> ParseJson(std::string_view body, std::string_view what) {
  try {
    json doc = json::parse(body);
    if (!doc.is_object()) return Error(Code::kCorruption, std::string(what) + " is not a JSON object");
    return doc;
  } catch (const json::exception& e) {
    return Error(Code::kCorruption, std::string(what) + ": " + e.what());
  }
}

std::string StringField(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::vector<std::string> StringList(const json& obj, const char* key) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_array()) return out;
  for (const auto& v : *it)
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

Result<Descriptor> ParseDescriptor(const json& j, std::string_view what) {
  if (!j.is_object()) return Error(Code::kCorruption, std::string(what) + " is not an object");
  Descriptor d;
  d.media_type = StringField(j, "mediaType");
  d.digest = StringField(j, "digest");
  auto size = j.find("size");
  if (size == j.end() || !size->is_number_unsigned())
    return Error(Code::kCorruption, std::string(what) + " has no valid size");
  d.size = size->get<uint64_t>();
  if (!IsValidDigest(d.digest))
    return Error(Code::kCorruption, std::string(what) + " has malformed digest " + Quote(d.digest));
  if (auto urls = j.find("urls"); urls != j.end() && !urls->empty())
    return Error(Code::kPermissionDenied,
                 std::string(what) + " " + Quote(d.digest) + " points at external urls; refused");
  if (IsForeignMediaType(d.media_type))
    return Error(Code::kPermissionDenied, std::string(what) + " " + Quote(d.digest) +
                                              " is a foreign layer (" + d.media_type + "); refused");
  if (auto p = j.find("platform"); p != j.end() && p->is_object()) {
    Platform pl;
    pl.os = StringField(*p, "os");
    pl.architecture = StringField(*p, "architecture");
    pl.variant = StringField(*p, "variant");
    d.platform = pl;
  }
  return d;
}

std::string NormalizedVariant(const Platform& p) {
  if (p.architecture == "arm64" && p.variant.empty()) return "v8";
  return p.variant;
}

}  // namespace

std::string media::AcceptHeader() {
  return "Accept: " + std::string(kOciIndex) + ", " + std::string(kOciManifest) + ", " +
         std::string(kDockerList) + ", " + std::string(kDockerManifest);
}

Result<Platform> Platform::Parse(std::string_view text) {
  Platform p;
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('/', start);
    if (end == std::string_view::npos) end = text.size();
    parts.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty())
    return InvalidArgument("platform " + Quote(text) + ": expected os/arch[/variant]");
  p.os = parts[0];
  p.architecture = parts[1];
  p.variant = parts.size() == 3 ? parts[2] : "";
  return p;
}

std::string Platform::ToString() const {
  return os + "/" + architecture + (variant.empty() ? "" : "/" + variant);
}

Result<ManifestKind> ClassifyManifest(std::string_view content_type, std::string_view body) {
  std::string type(content_type.substr(0, content_type.find(';')));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  BANGER_ASSIGN_OR_RETURN(json doc, ParseJson(body, "manifest"));
  std::string declared = StringField(doc, "mediaType");
  if (type.rfind(kDockerSchema1, 0) == 0 || declared.rfind(kDockerSchema1, 0) == 0 ||
      (doc.contains("schemaVersion") && doc["schemaVersion"] == 1))
    return Error(Code::kInvalidArgument,
                 "Docker schema1 manifests are not supported (deprecated format without "
                 "content-addressed configs); push the image with a current client");
  // The body's own mediaType is authoritative; registries may send a
  // generic Content-Type for OCI content.
  std::string effective = declared.empty() ? type : declared;
  if (effective == kOciIndex || effective == kDockerList) return ManifestKind::kIndex;
  if (effective == kOciManifest || effective == kDockerManifest) return ManifestKind::kManifest;
  if (effective.empty() || effective == "application/json") {
    if (doc.contains("manifests")) return ManifestKind::kIndex;
    if (doc.contains("layers") && doc.contains("config")) return ManifestKind::kManifest;
  }
  return Error(Code::kInvalidArgument, "unsupported manifest media type " + Quote(effective));
}

Result<Index> ParseIndex(std::string_view body) {
  BANGER_ASSIGN_OR_RETURN(json doc, ParseJson(body, "image index"));
  auto list = doc.find("manifests");
  if (list == doc.end() || !list->is_array())
    return Error(Code::kCorruption, "image index has no 'manifests' list");
  Index index;
  for (const auto& m : *list) {
    BANGER_ASSIGN_OR_RETURN(Descriptor d, ParseDescriptor(m, "index entry"));
    index.manifests.push_back(std::move(d));
  }
  return index;
}

Result<Manifest> ParseManifest(std::string_view body) {
  BANGER_ASSIGN_OR_RETURN(json doc, ParseJson(body, "image manifest"));
  Manifest m;
  m.media_type = StringField(doc, "mediaType");
  auto config = doc.find("config");
  if (config == doc.end()) return Error(Code::kCorruption, "image manifest has no config");
  BANGER_ASSIGN_OR_RETURN(m.config, ParseDescriptor(*config, "config"));
  auto layers = doc.find("layers");
  if (layers == doc.end() || !layers->is_array())
    return Error(Code::kCorruption, "image manifest has no 'layers' list");
  for (const auto& l : *layers) {
    BANGER_ASSIGN_OR_RETURN(Descriptor d, ParseDescriptor(l, "layer"));
    if (!IsLayerMediaType(d.media_type))
      return Error(Code::kInvalidArgument,
                   "layer " + Quote(d.digest) + " has unsupported media type " + Quote(d.media_type));
    m.layers.push_back(std::move(d));
  }
  return m;
}

Result<Descriptor> SelectPlatform(const Index& index, const Platform& want) {
  const Descriptor* fallback = nullptr;
  std::string available;
  for (const auto& d : index.manifests) {
    if (!d.platform) continue;
    const Platform& p = *d.platform;
    if (!available.empty()) available += ", ";
    available += p.ToString();
    if (p.os != want.os || p.architecture != want.architecture) continue;
    if (!want.variant.empty()) {
      if (NormalizedVariant(p) == NormalizedVariant(want)) return d;
      continue;
    }
    if (p.variant.empty()) return d;
    if (!fallback) fallback = &d;
  }
  if (fallback) return *fallback;
  return Error(Code::kNotFound, "no manifest for platform " + Quote(want.ToString()) +
                                    " (available: " + (available.empty() ? "none" : available) + ")");
}

Result<ImageConfig> ParseImageConfig(std::string_view body) {
  BANGER_ASSIGN_OR_RETURN(json doc, ParseJson(body, "image config"));
  ImageConfig c;
  c.os = StringField(doc, "os");
  c.architecture = StringField(doc, "architecture");
  if (auto cfg = doc.find("config"); cfg != doc.end() && cfg->is_object()) {
    c.env = StringList(*cfg, "Env");
    c.entrypoint = StringList(*cfg, "Entrypoint");
    c.cmd = StringList(*cfg, "Cmd");
    c.user = StringField(*cfg, "User");
    c.working_dir = StringField(*cfg, "WorkingDir");
  }
  if (auto rootfs = doc.find("rootfs"); rootfs != doc.end() && rootfs->is_object())
    c.diff_ids = StringList(*rootfs, "diff_ids");
  return c;
}

}  // namespace banger::oci
