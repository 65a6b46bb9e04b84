#include "reconciler/disk/work_disk.h"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>

#include "reconciler/disk/disk_file.h"
#include "reconciler/os/fs.h"

namespace banger::disk {

namespace {

// Checking or resizing a large, full filesystem reads much of it.
constexpr std::chrono::minutes kFsToolTimeout{10};

std::string OutputTail(const ExecResult& r) {
  std::string text = r.err.empty() ? r.out : r.err;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  constexpr size_t kMax = 400;
  return text.size() > kMax ? "..." + text.substr(text.size() - kMax) : text;
}

// Extends the staged image to `size` and grows its filesystem to fill it.
Status GrowStagedImage(const StagedFile& staged, uint64_t size, CommandRunner& runner) {
  if (ftruncate(staged.fd(), static_cast<off_t>(size)) != 0)
    return Error::FromErrno("extend " + Quote(staged.path()) + " to " + DescribeBytes(size));

  ExecRequest fsck;
  fsck.argv = E2fsckArgv(staged.path());
  fsck.timeout = kFsToolTimeout;
  BANGER_ASSIGN_OR_RETURN(ExecResult checked, runner.Run(fsck));
  BANGER_RETURN_IF_ERROR(CheckE2fsckResult(checked, staged.path()));

  ExecRequest resize;
  resize.argv = Resize2fsArgv(staged.path(), size);
  resize.timeout = kFsToolTimeout;
  BANGER_RETURN_IF_ERROR(RunChecked(runner, resize));
  return OkStatus();
}

// Clones `src_path` into a staged file next to `final_path`, grown to
// `size` when that is larger than the source.
Result<StagedFile> StageGrownClone(const std::string& src_path, const std::string& final_path,
                                   uint64_t size, CommandRunner& runner) {
  BANGER_ASSIGN_OR_RETURN(SourceFile src, OpenSourceFile(src_path));
  struct stat st;
  if (fstat(src.fd.get(), &st) != 0) return Error::FromErrno("stat " + Quote(src_path));
  BANGER_ASSIGN_OR_RETURN(ResizeAction action,
                          PlanWorkDiskResize(static_cast<uint64_t>(st.st_size), size));
  BANGER_ASSIGN_OR_RETURN(StagedFile staged, StagedFile::Create(final_path));
  BANGER_RETURN_IF_ERROR(CloneOrCopyFile(src.fd.get(), staged.fd(), src_path, final_path));
  if (action == ResizeAction::kGrow) BANGER_RETURN_IF_ERROR(GrowStagedImage(staged, size, runner));
  return staged;
}

}  // namespace

Result<ResizeAction> PlanWorkDiskResize(uint64_t current, uint64_t requested) {
  if (requested == 0) return InvalidArgument("work disk size must be greater than zero");
  if (requested % kWorkDiskAlignment != 0) {
    return InvalidArgument("work disk size " + DescribeBytes(requested) +
                           " is not a multiple of 4 KiB");
  }
  if (requested < current) {
    return FailedPrecondition("cannot shrink work disk from " + DescribeBytes(current) +
                              " to " + DescribeBytes(requested) +
                              ": only growing is supported");
  }
  return requested == current ? ResizeAction::kNone : ResizeAction::kGrow;
}

std::string DescribeBytes(uint64_t bytes) {
  static constexpr std::array<std::pair<uint64_t, const char*>, 4> kUnits{{
      {1ull << 40, "TiB"}, {1ull << 30, "GiB"}, {1ull << 20, "MiB"}, {1ull << 10, "KiB"}}};
  for (const auto& [unit, name] : kUnits) {
    if (bytes >= unit && bytes % unit == 0) return std::to_string(bytes / unit) + " " + name;
  }
  return std::to_string(bytes) + " bytes";
}

Result<uint64_t> WorkDiskSize(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return Error::FromErrno("stat work disk " + Quote(path));
  if (!S_ISREG(st.st_mode)) return InvalidArgument("work disk " + Quote(path) + " is not a regular file");
  return static_cast<uint64_t>(st.st_size);
}

std::vector<std::string> E2fsckArgv(const std::string& image) {
  return {"e2fsck", "-f", "-y", image};
}

std::vector<std::string> Resize2fsArgv(const std::string& image, uint64_t size) {
  return {"resize2fs", image, std::to_string(size / 1024) + "K"};
}

Status CheckE2fsckResult(const ExecResult& result, const std::string& image) {
  const std::string what = "check filesystem " + Quote(image);
  if (result.timed_out) return Error(Code::kTimeout, what + ": e2fsck timed out");
  if (result.term_signal != 0) {
    return Error(Code::kIo, what + ": e2fsck killed by signal " +
                                std::to_string(result.term_signal));
  }
  if (result.exit_code >= 0 && result.exit_code <= 2) return OkStatus();
  std::string detail = OutputTail(result);
  if (result.exit_code == 4) {
    return Error(Code::kCorruption, what + ": errors left uncorrected" +
                                        (detail.empty() ? "" : ": " + detail));
  }
  return Error(Code::kIo, what + ": e2fsck exit status " + std::to_string(result.exit_code) +
                              (detail.empty() ? "" : ": " + detail));
}

Status CreateWorkDisk(const std::string& seed, const std::string& dest, uint64_t size,
                      CommandRunner& runner) {
  const std::string context = "create work disk " + Quote(dest) + " from " + Quote(seed);
  if (PathExists(dest)) return Error(Code::kAlreadyExists, context + ": destination already exists");
  auto staged = StageGrownClone(seed, dest, size, runner);
  if (!staged.ok()) return std::move(staged).error().WithContext(context);
  Status committed = staged->Commit(StagedFile::Replace::kNever);
  if (!committed.ok()) return std::move(committed).error().WithContext(context);
  return OkStatus();
}

Status GrowWorkDisk(const std::string& path, uint64_t new_size, CommandRunner& runner) {
  const std::string context = "grow work disk " + Quote(path);
  auto current = WorkDiskSize(path);
  if (!current.ok()) return std::move(current).error().WithContext(context);
  auto action = PlanWorkDiskResize(*current, new_size);
  if (!action.ok()) return std::move(action).error().WithContext(context);
  if (*action == ResizeAction::kNone) return OkStatus();

  auto staged = StageGrownClone(path, path, new_size, runner);
  if (!staged.ok()) return std::move(staged).error().WithContext(context);
  Status committed = staged->Commit(StagedFile::Replace::kAllowed);
  if (!committed.ok()) return std::move(committed).error().WithContext(context);
  return OkStatus();
}

}  // namespace banger::disk
