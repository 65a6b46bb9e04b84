#include "guest/agent/transfer.h"

#include <sys/stat.h>
#include <unistd.h>

#include "reconciler/os/fs.h"

namespace banger::agent {
namespace {

std::string FindTar() {
  std::string path = kBasePath;
  size_t at = 0;
  while (at <= path.size()) {
    size_t end = path.find(':', at);
    if (end == std::string::npos) end = path.size();
    std::string candidate = path.substr(at, end - at) + "/tar";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    at = end + 1;
  }
  return "";
}

}  // namespace

Result<std::vector<std::string>> TarArgv(Transfer::Kind kind, const std::string& directory) {
  std::vector<std::string> argv;
  std::string tar = FindTar();
  if (!tar.empty()) {
    argv.push_back(tar);
  } else if (access(kGuestBusybox, X_OK) == 0) {
    argv = {kGuestBusybox, "tar"};
  } else {
    return Error(Code::kUnavailable, "the guest has no tar and no " + Quote(kGuestBusybox));
  }
  if (kind == Transfer::Kind::kPut) {
    argv.insert(argv.end(), {"-x", "--numeric-owner", "-f", "-", "-C", directory});
  } else {
    argv.insert(argv.end(), {"-c", "--numeric-owner", "-f", "-", "-C", directory, "."});
  }
  return argv;
}

Result<std::unique_ptr<Transfer>> StartTransfer(Transfer::Kind kind, const std::string& directory) {
  const std::string& dir = directory;
  if (kind == Transfer::Kind::kPut) {
    BANGER_RETURN_IF_ERROR(MakeDirs(dir, 0755));
  } else if (!IsDirectory(dir)) {
    return NotFound("get " + Quote(directory) + ": not a directory");
  }
  auto t = std::make_unique<Transfer>();
  t->kind = kind;
  t->directory = directory;
  ExecStart start;
  BANGER_ASSIGN_OR_RETURN(start.argv, TarArgv(kind, dir));
  BANGER_ASSIGN_OR_RETURN(t->tar, ExecSession::Start(start));
  // tar -c reads no input.
  if (kind == Transfer::Kind::kGet) t->tar->CloseStdin();
  return t;
}

}  // namespace banger::agent
