#include "reconciler/snapshot/snapshot_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reconciler/os/fs.h"
#include "reconciler/os/unique_fd.h"
#include "specs/value_rules.h"

namespace banger::snapshot {

using nlohmann::json;

std::string SnapshotsDir(const store::StatePaths& paths) {
  return JoinPath(paths.root(), "snapshots");
}

std::string SnapshotDir(const store::StatePaths& paths, const std::string& name) {
  return JoinPath(SnapshotsDir(paths), name);
}

Status CheckSnapshotName(const std::string& name) {
  Status st = specs::CheckName(name);
  if (!st.ok()) return InvalidArgument("snapshot: " + st.error().message());
  return OkStatus();
}

Result<model::SnapshotMeta> ReadMeta(const std::string& dir) {
  const std::string path = JoinPath(dir, kMetaFile);
  BANGER_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error(Code::kCorruption, Quote(path) + ": not valid JSON");
  auto meta = model::SnapshotMetaFromJson(j);
  if (!meta.ok()) {
    Code code = meta.error().code() == Code::kFailedPrecondition ? Code::kFailedPrecondition
                                                                 : Code::kCorruption;
    return Error(code, Quote(path) + ": " + meta.error().message());
  }
  return meta;
}

Status WriteMeta(const std::string& dir, const model::SnapshotMeta& meta) {
  return AtomicWriteFile(JoinPath(dir, kMetaFile), model::SnapshotMetaToJson(meta).dump(2) + "\n",
                         0600);
}

Status WriteSource(const std::string& staging, const std::string& vm,
                   const model::VmHandles& h) {
  json j = {{"vm", vm},       {"vmm", h.vmm},           {"pid", h.pid},
            {"pid_start_ticks", h.pid_start_ticks},     {"api_socket", h.api_socket},
            {"jail", h.jail}};
  return AtomicWriteFile(JoinPath(staging, kSourceFile), j.dump() + "\n", 0600);
}

Result<std::pair<std::string, model::VmHandles>> ReadSource(const std::string& staging) {
  const std::string path = JoinPath(staging, kSourceFile);
  BANGER_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  json j = json::parse(text, nullptr, false);
  auto bad = [&] { return Error(Code::kCorruption, Quote(path) + ": not a snapshot source"); };
  if (!j.is_object()) return bad();
  for (const char* k : {"vm", "vmm", "api_socket", "jail"})
    if (!j.contains(k) || !j[k].is_string()) return bad();
  for (const char* k : {"pid", "pid_start_ticks"})
    if (!j.contains(k) || !j[k].is_number_unsigned()) return bad();
  model::VmHandles h;
  h.vmm = j["vmm"].get<std::string>();
  h.pid = j["pid"].get<pid_t>();
  h.pid_start_ticks = j["pid_start_ticks"].get<uint64_t>();
  h.api_socket = j["api_socket"].get<std::string>();
  h.jail = j["jail"].get<std::string>();
  return std::make_pair(j["vm"].get<std::string>(), h);
}

Status Publish(OwnedDir& staging, const std::string& final_dir) {
  const std::string what = "publish snapshot " + Quote(final_dir);
  BANGER_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(staging.path()));
  for (const std::string& n : names) {
    const std::string p = JoinPath(staging.path(), n);
    UniqueFd fd(open(p.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid() || fsync(fd.get()) != 0) return Error::FromErrno(what + ": flush " + Quote(p));
  }
  BANGER_RETURN_IF_ERROR(SyncDir(staging.path()));
  BANGER_RETURN_IF_ERROR(MakeDirs(Dirname(final_dir), 0700));
  Status renamed = RenameNoReplace(staging.path(), final_dir);
  if (!renamed.ok()) return std::move(renamed).error().WithContext(what);
  staging.Release();
  return SyncDir(Dirname(final_dir));
}

Status RemoveSnapshotDir(const store::StatePaths& paths, const std::string& dir) {
  if (!PathExists(dir)) return OkStatus();
  BANGER_ASSIGN_OR_RETURN(OwnedDir removing, OwnedDir::Create(paths.staging_dir(), kRemovingPrefix));
  Status moved = RenameNoReplace(dir, JoinPath(removing.path(), "snapshot"));
  if (!moved.ok()) return std::move(moved).error().WithContext("remove snapshot " + Quote(dir));
  BANGER_RETURN_IF_ERROR(SyncDir(Dirname(dir)));
  return OkStatus();  // `removing` deletes the tree as it goes out of scope
}

Result<SpaceUsage> MeasureFile(const std::string& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return Error::FromErrno("stat " + Quote(path));
  SpaceUsage u;
  if (S_ISREG(st.st_mode)) {
    u.apparent = static_cast<uint64_t>(st.st_size);
    u.allocated = static_cast<uint64_t>(st.st_blocks) * 512;
  }
  return u;
}

Result<SpaceUsage> MeasureDir(const std::string& dir) {
  BANGER_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dir));
  SpaceUsage total;
  for (const std::string& n : names) {
    BANGER_ASSIGN_OR_RETURN(SpaceUsage u, MeasureFile(JoinPath(dir, n)));
    total.apparent += u.apparent;
    total.allocated += u.allocated;
  }
  return total;
}

}  // namespace banger::snapshot
