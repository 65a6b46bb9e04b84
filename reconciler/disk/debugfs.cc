#include "reconciler/disk/debugfs.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "reconciler/os/fs.h"
#include "reconciler/os/owned_dir.h"

namespace banger::disk {
namespace {

constexpr std::chrono::minutes kDebugfsTimeout{10};

std::string Octal(uint32_t v) {
  char buf[16];
  snprintf(buf, sizeof buf, "0%o", v);
  return buf;
}

std::string ParentOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// debugfs prints its version banner on stderr; every other line there is a
// failed command.
std::vector<std::string> ErrorLines(const std::string& err) {
  std::vector<std::string> lines;
  std::istringstream in(err);
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
    if (line.empty() || line.rfind("debugfs ", 0) == 0) continue;
    lines.push_back(line);
  }
  return lines;
}

// Fields of a `stat` block: "Type: regular    Mode:  04755" etc.
std::string FieldAfter(std::string_view text, std::string_view key) {
  size_t at = text.find(key);
  if (at == std::string_view::npos) return "";
  at += key.size();
  while (at < text.size() && text[at] == ' ') ++at;
  size_t end = at;
  // "Type:" values may contain one space ("character special").
  while (end < text.size() && text[end] != '\n' &&
         !(text[end] == ' ' && end + 1 < text.size() && text[end + 1] == ' ')) {
    ++end;
  }
  return std::string(text.substr(at, end - at));
}

uint32_t TypeBits(const std::string& type) {
  if (type == "regular") return S_IFREG;
  if (type == "directory") return S_IFDIR;
  if (type == "symlink") return S_IFLNK;
  if (type == "character special") return S_IFCHR;
  if (type == "block special") return S_IFBLK;
  if (type == "FIFO") return S_IFIFO;
  if (type == "socket") return S_IFSOCK;
  return 0;
}


}  // namespace

Result<std::string> DebugfsQuote(std::string_view arg) {
  std::string out = "\"";
  for (char c : arg) {
    if (c == '\n' || c == '\r' || c == '\0') {
      return InvalidArgument("path " + Quote(arg) +
                             " contains a line break or NUL, which debugfs scripts cannot express");
    }
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

bool DebugfsScript::Q(std::string_view arg, std::string& out) {
  auto q = DebugfsQuote(arg);
  if (!q.ok()) {
    if (!error_) error_ = q.error();
    return false;
  }
  out += *q;
  return true;
}

void DebugfsScript::SetInodeField(const std::string& path, std::string_view field,
                                  std::string_view value) {
  std::string line = "set_inode_field ";
  if (!Q(path, line)) return;
  line += ' ';
  line += field;
  line += ' ';
  line += value;
  lines_.push_back(std::move(line));
}

void DebugfsScript::SetOwnerAndMode(const std::string& path, uint32_t uid,
                                    uint32_t gid, uint32_t mode) {
  SetInodeField(path, "uid", std::to_string(uid));
  SetInodeField(path, "gid", std::to_string(gid));
  SetInodeField(path, "mode", Octal(mode));
}

void DebugfsScript::SetXattrFromFile(const std::string& path, std::string_view name,
                                     const std::string& value_file) {
  std::string line = "ea_set -f ";
  if (!Q(value_file, line)) return;
  line += ' ';
  if (!Q(path, line)) return;
  line += ' ';
  if (!Q(name, line)) return;
  lines_.push_back(std::move(line));
}

// debugfs links a new node under the *current* directory using the whole
// argument as one name, so creation commands change into the parent first.
void DebugfsScript::ChangeDir(const std::string& dir) {
  std::string line = "cd ";
  if (!Q(dir, line)) return;
  lines_.push_back(std::move(line));
}

void DebugfsScript::MakeNode(const std::string& path, uint32_t mode, uint64_t rdev,
                             uint32_t uid, uint32_t gid) {
  std::string line = "mknod ";
  if (!Q(BaseOf(path), line)) return;
  if (S_ISFIFO(mode)) {
    line += " p";
  } else if (S_ISCHR(mode) || S_ISBLK(mode)) {
    line += S_ISCHR(mode) ? " c " : " b ";
    line += std::to_string(major(rdev)) + " " + std::to_string(minor(rdev));
  } else {
    if (!error_) error_ = InvalidArgument("mknod " + Quote(path) + ": not a device or FIFO mode");
    return;
  }
  ChangeDir(ParentOf(path));
  lines_.push_back(std::move(line));
  ChangeDir("/");
  SetOwnerAndMode(path, uid, gid, mode);
}

void DebugfsScript::WriteFile(const std::string& host_file, const std::string& path) {
  std::string line = "write ";
  if (!Q(host_file, line)) return;
  line += ' ';
  if (!Q(BaseOf(path), line)) return;
  ChangeDir(ParentOf(path));
  lines_.push_back(std::move(line));
  ChangeDir("/");
}

void DebugfsScript::MakeDir(const std::string& path) {
  std::string line = "mkdir ";
  if (Q(path, line)) lines_.push_back(std::move(line));
}

void DebugfsScript::Remove(const std::string& path) {
  std::string line = "rm ";
  if (Q(path, line)) lines_.push_back(std::move(line));
}

void DebugfsScript::Stat(const std::string& path) {
  std::string line = "stat ";
  if (Q(path, line)) lines_.push_back(std::move(line));
}

void DebugfsScript::Raw(std::string line) { lines_.push_back(std::move(line)); }

Result<std::string> DebugfsScript::Render() const {
  if (error_) return *error_;
  std::string out;
  for (const auto& l : lines_) {
    out += l;
    out += '\n';
  }
  return out;
}

Result<InodeInfo> ParseDebugfsStat(std::string_view text) {
  InodeInfo info;
  std::string inode = FieldAfter(text, "Inode:");
  if (inode.empty()) return NotFound("no inode in debugfs stat output");
  try {
    info.inode = std::stoull(inode);
    uint32_t type = TypeBits(FieldAfter(text, "Type:"));
    info.mode = type | static_cast<uint32_t>(std::stoul(FieldAfter(text, "Mode:"), nullptr, 8));
    info.uid = static_cast<uint32_t>(std::stoul(FieldAfter(text, "User:")));
    info.gid = static_cast<uint32_t>(std::stoul(FieldAfter(text, "Group:")));
    info.size = std::stoull(FieldAfter(text, "Size:"));
    info.links = static_cast<uint32_t>(std::stoul(FieldAfter(text, "Links:")));
    std::string dev = FieldAfter(text, "Device major/minor number:");
    if (!dev.empty()) {
      unsigned maj = 0, min = 0;
      if (sscanf(dev.c_str(), "%u:%u", &maj, &min) == 2) info.rdev = makedev(maj, min);
    }
  } catch (const std::exception&) {
    return Error(Code::kCorruption, "unreadable debugfs stat output");
  }
  return info;
}

Result<std::string> Debugfs::Run(const DebugfsScript& script, bool writable) {
  BANGER_ASSIGN_OR_RETURN(std::string text, script.Render());
  // The script goes through a file: `-f -` would also work, but a file keeps
  // stdin free and shows up intact in error reports.
  // Host-side scratch files (scripts, values) live in this process's temp
  // directory: the image's own directory may not be writable by the caller.
  BANGER_ASSIGN_OR_RETURN(TempDir tmp, TempDir::Create(HostTempParent(), "banger-debugfs-"));
  std::string script_path = JoinPath(tmp.path(), "script");
  BANGER_RETURN_IF_ERROR(AtomicWriteFile(script_path, text, 0600));
  ExecRequest req;
  req.argv = {"debugfs"};
  if (writable) req.argv.push_back("-w");
  req.argv.insert(req.argv.end(), {"-f", script_path, image_});
  req.timeout = kDebugfsTimeout;
  req.output_limit = 256u << 20;
  auto res = RunChecked(runner_, req);
  if (!res.ok()) return std::move(res).error().WithContext("debugfs on " + Quote(image_));
  auto errors = ErrorLines(res->err);
  if (!errors.empty()) {
    std::string msg = "debugfs on " + Quote(image_) + ": " + errors.front();
    if (errors.size() > 1) msg += " (and " + std::to_string(errors.size() - 1) + " more errors)";
    return Error(Code::kIo, msg);
  }
  return std::move(res->out);
}

Result<std::vector<std::optional<InodeInfo>>> Debugfs::StatMany(
    const std::vector<std::string>& paths) {
  DebugfsScript script;
  for (const auto& p : paths) script.Stat(p);
  BANGER_ASSIGN_OR_RETURN(std::string text, script.Render());
  ExecRequest req;
  req.argv = {"debugfs", "-f", "-", image_};
  req.stdin_data = text;
  req.timeout = kDebugfsTimeout;
  auto res = RunChecked(runner_, req);
  if (!res.ok()) return std::move(res).error().WithContext("stat in " + Quote(image_));
  // Each command is echoed as "debugfs: stat ..." on stdout; a missing path
  // leaves its section without an "Inode:" line (the error is on stderr).
  std::vector<std::optional<InodeInfo>> out;
  const std::string& s = res->out;
  size_t pos = s.find("debugfs: ");
  while (pos != std::string::npos && out.size() < paths.size()) {
    size_t next = s.find("\ndebugfs: ", pos);
    std::string_view section(s.data() + pos, (next == std::string::npos ? s.size() : next) - pos);
    auto info = ParseDebugfsStat(section);
    out.push_back(info.ok() ? std::optional<InodeInfo>(*info) : std::nullopt);
    pos = next == std::string::npos ? next : next + 1;
  }
  if (out.size() != paths.size()) {
    return Error(Code::kCorruption, "stat in " + Quote(image_) + ": debugfs answered " +
                                        std::to_string(out.size()) + " of " +
                                        std::to_string(paths.size()) + " paths");
  }
  return out;
}

Result<std::optional<InodeInfo>> Debugfs::Stat(const std::string& path) {
  BANGER_ASSIGN_OR_RETURN(auto all, StatMany({path}));
  return all.front();
}

Result<std::vector<std::string>> Debugfs::ListXattrNames(const std::string& path) {
  BANGER_ASSIGN_OR_RETURN(std::string q, DebugfsQuote(path));
  DebugfsScript list;
  list.Raw("ea_list " + q);
  BANGER_ASSIGN_OR_RETURN(std::string out, Run(list, false));
  std::vector<std::string> names;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("  ", 0) != 0) continue;
    size_t end = line.find(" (", 2);
    if (end != std::string::npos) names.push_back(line.substr(2, end - 2));
  }
  return names;
}

Result<std::string> Debugfs::GetXattr(const std::string& path, const std::string& name) {
  // Host-side scratch files (scripts, values) live in this process's temp
  // directory: the image's own directory may not be writable by the caller.
  BANGER_ASSIGN_OR_RETURN(TempDir tmp, TempDir::Create(HostTempParent(), "banger-debugfs-"));
  std::string value_file = JoinPath(tmp.path(), "value");
  BANGER_ASSIGN_OR_RETURN(std::string qf, DebugfsQuote(value_file));
  BANGER_ASSIGN_OR_RETURN(std::string qp, DebugfsQuote(path));
  BANGER_ASSIGN_OR_RETURN(std::string qn, DebugfsQuote(name));
  DebugfsScript script;
  script.Raw("ea_get -f " + qf + " " + qp + " " + qn);
  BANGER_RETURN_IF_ERROR(Run(script, false));
  auto value = banger::ReadFile(value_file);
  if (!value.ok()) {
    return Error(Code::kNotFound, "xattr " + Quote(name) + " of " + Quote(path) + " in " +
                                      Quote(image_) + " not found");
  }
  return value;
}

Status Debugfs::DumpFile(const std::string& path, const std::string& host_path) {
  BANGER_ASSIGN_OR_RETURN(std::string qp, DebugfsQuote(path));
  BANGER_ASSIGN_OR_RETURN(std::string qh, DebugfsQuote(host_path));
  DebugfsScript script;
  script.Raw("dump " + qp + " " + qh);
  BANGER_RETURN_IF_ERROR(Run(script, false));
  if (!PathExists(host_path)) {
    return NotFound("dump " + Quote(path) + " from " + Quote(image_) + ": nothing written");
  }
  return OkStatus();
}

Result<std::string> Debugfs::ReadFile(const std::string& path, size_t max_bytes) {
  BANGER_ASSIGN_OR_RETURN(auto info, Stat(path));
  if (!info) return NotFound("read " + Quote(path) + " in " + Quote(image_) + ": no such file");
  if (!S_ISREG(info->mode)) {
    return InvalidArgument("read " + Quote(path) + " in " + Quote(image_) + ": not a regular file");
  }
  if (info->size > max_bytes) {
    return InvalidArgument("read " + Quote(path) + " in " + Quote(image_) + ": " +
                           std::to_string(info->size) + " bytes exceeds the limit of " +
                           std::to_string(max_bytes));
  }
  // Host-side scratch files (scripts, values) live in this process's temp
  // directory: the image's own directory may not be writable by the caller.
  BANGER_ASSIGN_OR_RETURN(TempDir tmp, TempDir::Create(HostTempParent(), "banger-debugfs-"));
  std::string out = JoinPath(tmp.path(), "content");
  BANGER_RETURN_IF_ERROR(DumpFile(path, out));
  return banger::ReadFile(out);
}

Status Debugfs::AddMissingDirs(const std::string& dir, const FileOwnership& dirs,
                               DebugfsScript& script) {
  std::vector<std::string> components;
  for (size_t at = dir.find('/', 1); ; at = dir.find('/', at + 1)) {
    components.push_back(at == std::string::npos ? dir : dir.substr(0, at));
    if (at == std::string::npos) break;
  }
  if (dir == "/" || dir.empty()) return OkStatus();
  BANGER_ASSIGN_OR_RETURN(auto infos, StatMany(components));
  for (size_t i = 0; i < components.size(); ++i) {
    if (infos[i]) {
      if (!S_ISDIR(infos[i]->mode)) {
        return FailedPrecondition(Quote(components[i]) + " in " + Quote(image_) +
                                  " is not a directory");
      }
      continue;
    }
    script.MakeDir(components[i]);
    script.SetOwnerAndMode(components[i], dirs.uid, dirs.gid, S_IFDIR | (dirs.mode & 07777));
  }
  return OkStatus();
}

Status Debugfs::MakeDirs(const std::string& path, const FileOwnership& dirs) {
  if (path.empty() || path[0] != '/') {
    return InvalidArgument("path " + Quote(path) + " in an image must be absolute");
  }
  DebugfsScript script;
  BANGER_RETURN_IF_ERROR(AddMissingDirs(path, dirs, script));
  if (script.empty()) return OkStatus();
  auto res = Run(script, true);
  if (!res.ok()) return std::move(res).error().WithContext("create " + Quote(path));
  return OkStatus();
}

Status Debugfs::WriteFile(const std::string& path, std::string_view content,
                          const FileOwnership& file, const FileOwnership& parents) {
  if (path.size() < 2 || path[0] != '/' || path.back() == '/') {
    return InvalidArgument("path " + Quote(path) + " in an image must be an absolute file path");
  }
  DebugfsScript script;
  BANGER_RETURN_IF_ERROR(AddMissingDirs(ParentOf(path), parents, script));
  BANGER_ASSIGN_OR_RETURN(auto existing, Stat(path));
  if (existing) {
    if (S_ISDIR(existing->mode)) {
      return FailedPrecondition("write " + Quote(path) + " in " + Quote(image_) +
                                ": a directory is in the way");
    }
    script.Remove(path);
  }
  // Host-side scratch files (scripts, values) live in this process's temp
  // directory: the image's own directory may not be writable by the caller.
  BANGER_ASSIGN_OR_RETURN(TempDir tmp, TempDir::Create(HostTempParent(), "banger-debugfs-"));
  std::string host_file = JoinPath(tmp.path(), "content");
  BANGER_RETURN_IF_ERROR(AtomicWriteFile(host_file, content, 0600));
  script.WriteFile(host_file, path);
  script.SetOwnerAndMode(path, file.uid, file.gid, S_IFREG | (file.mode & 07777));
  auto res = Run(script, true);
  if (!res.ok()) return std::move(res).error().WithContext("write " + Quote(path));
  return OkStatus();
}

}  // namespace banger::disk
