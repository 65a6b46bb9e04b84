#include "reconciler/image/image_manifest.h"

#include "reconciler/os/fs.h"
#include "specs/spec_json.h"

namespace banger::image {

nlohmann::json ManifestToJson(const ImageManifest& m) {
  return {
      {"name", m.spec.name},
      {"source", std::string(specs::ImageSourceName(m.spec.source))},
      {"spec", specs::ToJson(m.spec)},
      {"digest", m.digest},
      {"rootfs_bytes", m.rootfs_bytes},
      {"work_seed_bytes", m.work_seed_bytes},
      {"content_bytes", m.content_bytes},
      {"created_unix", m.created_unix},
  };
}

Result<ImageManifest> ManifestFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Error(Code::kCorruption, "image manifest is not a JSON object");
  ImageManifest m;
  auto spec_it = j.find("spec");
  if (spec_it == j.end()) return Error(Code::kCorruption, "image manifest: missing " + Quote("spec"));
  auto spec = specs::ImageFromJson(*spec_it);
  if (!spec.ok()) return std::move(spec).error().WithContext("image manifest");
  m.spec = std::move(spec).value();
  try {
    m.digest = j.at("digest").get<std::string>();
    m.rootfs_bytes = j.at("rootfs_bytes").get<uint64_t>();
    m.work_seed_bytes = j.at("work_seed_bytes").get<uint64_t>();
    m.content_bytes = j.value("content_bytes", uint64_t{0});
    m.created_unix = j.at("created_unix").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    return Error(Code::kCorruption, std::string("image manifest: ") + e.what());
  }
  return m;
}

Result<ImageManifest> ReadManifest(const std::string& dir) {
  std::string path = JoinPath(dir, kManifestFile);
  BANGER_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error(Code::kCorruption, "read " + Quote(path) + ": not valid JSON");
  auto m = ManifestFromJson(j);
  if (!m.ok()) return std::move(m).error().WithContext("read " + Quote(path));
  m->dir = dir;
  return m;
}

}  // namespace banger::image
