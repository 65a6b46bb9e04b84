#include "reconciler/disk/cow.h"

#include <stdlib.h>

#include <chrono>
#include <memory>

#include "reconciler/disk/disk_file.h"
#include "reconciler/os/fs.h"

namespace banger::disk {

namespace {

Result<std::string> CanonicalPath(const std::string& path) {
  std::unique_ptr<char, decltype(&free)> resolved(realpath(path.c_str(), nullptr), &free);
  if (!resolved) return Error::FromErrno("resolve " + Quote(path));
  return std::string(resolved.get());
}

Status CreateQcow2Overlay(const std::string& base, StagedFile& staged,
                          CommandRunner& runner) {
  BANGER_ASSIGN_OR_RETURN(std::string abs_base, CanonicalPath(base));
  // Opening it checks that it is a readable regular file before qemu-img
  // records it as the backing file.
  BANGER_ASSIGN_OR_RETURN(SourceFile src, OpenSourceFile(abs_base));
  ExecRequest req;
  req.argv = Qcow2OverlayArgv(abs_base, staged.path());
  req.timeout = std::chrono::minutes(1);
  BANGER_RETURN_IF_ERROR(RunChecked(runner, req));
  return OkStatus();
}

Status CreateReflink(const std::string& base, StagedFile& staged) {
  BANGER_ASSIGN_OR_RETURN(SourceFile src, OpenSourceFile(base));
  Status st = ReflinkFile(src.fd.get(), staged.fd(), base, staged.final_path());
  if (!st.ok() && IsReflinkUnsupported(st.error().sys_errno())) {
    return Error(Code::kFailedPrecondition,
                 st.error().message() + " (the filesystem cannot share extents "
                 "between these files; use the copy method)",
                 st.error().sys_errno());
  }
  return st;
}

Status CreateCopy(const std::string& base, StagedFile& staged) {
  BANGER_ASSIGN_OR_RETURN(SourceFile src, OpenSourceFile(base));
  return SparseCopyFile(src.fd.get(), staged.fd(), base, staged.final_path());
}

}  // namespace

std::vector<std::string> Qcow2OverlayArgv(const std::string& base,
                                          const std::string& dest,
                                          const std::string& base_format) {
  return {"qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", base_format, dest};
}

Status CreateCowRootfs(CowMethod method, const std::string& base, const std::string& dest,
                       CommandRunner& runner) {
  const std::string context = "create " + std::string(CowMethodName(method)) +
                              " rootfs " + Quote(dest) + " from " + Quote(base);
  // Checked up front for a clear message; the no-replace rename below is
  // what actually guarantees an existing disk is never overwritten.
  if (PathExists(dest)) {
    return Error(Code::kAlreadyExists, context + ": destination already exists");
  }
  auto staged = StagedFile::Create(dest);
  if (!staged.ok()) return std::move(staged).error().WithContext(context);

  Status made = OkStatus();
  switch (method) {
    case CowMethod::kQcow2: made = CreateQcow2Overlay(base, *staged, runner); break;
    case CowMethod::kReflink: made = CreateReflink(base, *staged); break;
    case CowMethod::kCopy: made = CreateCopy(base, *staged); break;
  }
  if (!made.ok()) return std::move(made).error().WithContext(context);
  Status committed = staged->Commit(StagedFile::Replace::kNever);
  if (!committed.ok()) return std::move(committed).error().WithContext(context);
  return OkStatus();
}

}  // namespace banger::disk
