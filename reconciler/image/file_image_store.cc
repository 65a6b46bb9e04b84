#include "reconciler/image/file_image_store.h"

#include <algorithm>
#include <ctime>
#include <sys/stat.h>

#include "reconciler/disk/ext4_builder.h"
#include "reconciler/image/guest_assets.h"
#include "reconciler/image/rootfs_tree.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/owned_dir.h"
#include "specs/spec_json.h"

namespace banger::image {
namespace {

constexpr char kStagePrefix[] = "image-";
constexpr char kTrashPrefix[] = "removing-";

// Image names become directory names.
Status CheckName(const std::string& name) {
  if (name.empty() || name[0] == '.' || name.find('/') != std::string::npos ||
      name.find('\0') != std::string::npos) {
    return InvalidArgument("image name " + Quote(name) + " cannot be used as a directory name");
  }
  return OkStatus();
}

}  // namespace

std::string RootfsPath(const model::ImageRecord& record) { return JoinPath(record.dir, kRootfsFile); }
std::string WorkSeedPath(const model::ImageRecord& record) { return JoinPath(record.dir, kWorkSeedFile); }

std::vector<std::string> FileImageStore::StagingPrefixes() { return {kStagePrefix, kTrashPrefix}; }

FileImageStore::FileImageStore(ImageStoreOptions options, ImageSourceRegistry sources)
    : options_(std::move(options)),
      sources_(std::move(sources)),
      runner_(options_.runner ? *options_.runner : SystemRunner()) {}

Result<model::ImageRecord> FileImageStore::Build(const specs::ImageSpec& spec,
                                                 apply::StepProgress& progress) {
  BANGER_RETURN_IF_ERROR(CheckName(spec.name));
  BANGER_RETURN_IF_ERROR(MakeDirs(options_.staging_dir, 0700));
  BANGER_RETURN_IF_ERROR(MakeDirs(options_.images_dir, 0755));
  // Owned by this process: removed on every error (cancellation included)
  // and swept at a later start if the process dies mid-build.
  BANGER_ASSIGN_OR_RETURN(OwnedDir stage, OwnedDir::Create(options_.staging_dir, kStagePrefix));
  auto record = BuildInStaging(spec, stage.path(), progress);
  if (!record.ok()) return std::move(record).error().WithContext("build image " + Quote(spec.name));

  // "<name>-XXXXXX": the staging directory's unique suffix names the build.
  std::string final_dir = JoinPath(options_.images_dir, spec.name + "-" + stage.Suffix());
  BANGER_RETURN_IF_ERROR(RenameNoReplace(stage.path(), final_dir));
  stage.Release();
  // The directory keeps the staging mode (0700); images are readable by
  // the VMM, which may run as another user.
  chmod(final_dir.c_str(), 0755);
  BANGER_RETURN_IF_ERROR(SyncDir(options_.images_dir));
  record->dir = final_dir;
  return record;
}

Result<model::ImageRecord> FileImageStore::BuildInStaging(const specs::ImageSpec& spec,
                                                          const std::string& stage,
                                                          apply::StepProgress& progress) {
  BANGER_ASSIGN_OR_RETURN(ImageSourceBuilder * source, sources_.Find(spec));
  BANGER_ASSIGN_OR_RETURN(std::string digest, source->Identity(spec));

  const std::string rootfs_dir = JoinPath(stage, "rootfs");
  const std::string seed_dir = JoinPath(stage, "work");
  BANGER_RETURN_IF_ERROR(MakeDirs(rootfs_dir, 0755));
  BANGER_RETURN_IF_ERROR(MakeDirs(seed_dir, 0700));
  RootfsTree tree(rootfs_dir);
  RootfsTree seed(seed_dir);
  BANGER_RETURN_IF_ERROR(source->Populate(spec, tree, progress));
  BANGER_RETURN_IF_ERROR(SplitWorkSeed(tree, seed));
  BANGER_ASSIGN_OR_RETURN(GuestInit init, InjectGuestAssets(tree));
  if (init == GuestInit::kBanger)
    progress.Note("no systemd init in the image: it boots with banger's init (busybox)");

  progress.Note("building " + std::string(kRootfsFile));
  BANGER_ASSIGN_OR_RETURN(disk::Ext4Content content, disk::MeasureTree(tree));
  BANGER_ASSIGN_OR_RETURN(uint64_t rootfs_bytes,
                          disk::ChooseImageSize(content, spec.size, "image " + Quote(spec.name)));
  BANGER_RETURN_IF_ERROR(disk::BuildExt4(tree, rootfs_bytes, JoinPath(stage, kRootfsFile),
                                         runner_, "banger-root"));

  progress.Note("building " + std::string(kWorkSeedFile));
  BANGER_ASSIGN_OR_RETURN(disk::Ext4Content seed_content, disk::MeasureTree(seed));
  uint64_t seed_bytes = std::max(options_.work_seed_bytes, disk::MinimumImageBytes(seed_content));
  BANGER_RETURN_IF_ERROR(disk::BuildExt4(seed, seed_bytes, JoinPath(stage, kWorkSeedFile),
                                         runner_, "banger-work"));

  // The staged trees are in the images now; only the images get published.
  BANGER_RETURN_IF_ERROR(RemoveTree(rootfs_dir));
  BANGER_RETURN_IF_ERROR(RemoveTree(seed_dir));

  ImageManifest manifest;
  manifest.spec = spec;
  manifest.digest = digest;
  manifest.rootfs_bytes = rootfs_bytes;
  manifest.work_seed_bytes = seed_bytes;
  manifest.content_bytes = content.apparent_bytes;
  manifest.created_unix = options_.now ? options_.now() : static_cast<int64_t>(time(nullptr));
  BANGER_RETURN_IF_ERROR(AtomicWriteFile(JoinPath(stage, kManifestFile),
                                         ManifestToJson(manifest).dump(2) + "\n", 0644));

  model::ImageRecord record;
  record.spec = spec;
  record.origin = model::Origin::kSpec;
  record.digest = digest;
  record.rootfs_bytes = rootfs_bytes;
  record.created_unix = manifest.created_unix;
  return record;
}

bool FileImageStore::InImagesDir(const std::string& dir) const {
  std::string base = Basename(dir);
  return !base.empty() && base != "." && base != ".." &&
         JoinPath(options_.images_dir, base) == dir;
}

Status FileImageStore::Remove(const model::ImageRecord& record) {
  if (!InImagesDir(record.dir)) {
    return InvalidArgument("remove image " + Quote(record.spec.name) + ": " + Quote(record.dir) +
                           " is not in the image store " + Quote(options_.images_dir));
  }
  if (!PathExists(record.dir)) return OkStatus();
  // Move it out of sight first so a crash mid-removal leaves no
  // half-deleted image that still looks published.
  BANGER_RETURN_IF_ERROR(MakeDirs(options_.staging_dir, 0700));
  BANGER_ASSIGN_OR_RETURN(OwnedDir trash, OwnedDir::Create(options_.staging_dir, kTrashPrefix));
  std::string moved = JoinPath(trash.path(), "image");
  if (rename(record.dir.c_str(), moved.c_str()) != 0) {
    return Error::FromErrno("remove image " + Quote(record.spec.name) + " at " + Quote(record.dir));
  }
  BANGER_RETURN_IF_ERROR(SyncDir(options_.images_dir));
  Status removed = RemoveTree(moved);
  if (!removed.ok()) return std::move(removed).error().WithContext("remove image " + Quote(record.spec.name));
  return OkStatus();
}

bool FileImageStore::Present(const model::ImageRecord& record) {
  if (record.dir.empty()) return false;
  struct stat st;
  for (const char* f : {kRootfsFile, kWorkSeedFile, kManifestFile}) {
    if (stat(JoinPath(record.dir, f).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  }
  return true;
}

Result<std::vector<ImageManifest>> FileImageStore::List() const {
  std::vector<ImageManifest> out;
  if (!IsDirectory(options_.images_dir)) return out;
  BANGER_ASSIGN_OR_RETURN(auto names, ListDir(options_.images_dir));
  for (const auto& n : names) {
    std::string dir = JoinPath(options_.images_dir, n);
    if (!IsDirectory(dir)) continue;
    auto m = ReadManifest(dir);
    if (m.ok()) out.push_back(std::move(m).value());
  }
  std::sort(out.begin(), out.end(), [](const ImageManifest& a, const ImageManifest& b) {
    return a.name() != b.name() ? a.name() < b.name() : a.created_unix < b.created_unix;
  });
  return out;
}

Result<ImageManifest> FileImageStore::Show(const std::string& name) const {
  BANGER_ASSIGN_OR_RETURN(auto all, List());
  const ImageManifest* newest = nullptr;
  for (const auto& m : all) {
    if (m.name() == name) newest = &m;  // List sorts by creation time
  }
  if (!newest) return NotFound("image " + Quote(name) + " is not in the image store");
  return *newest;
}

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
