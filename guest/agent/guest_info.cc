#include "guest/agent/guest_info.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "reconciler/os/fs.h"

namespace banger::agent {
namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

Result<HealthReply> ReadHealth(const std::string& root) {
  HealthReply h;
  BANGER_ASSIGN_OR_RETURN(std::string boot_id, ReadFile(root + "/proc/sys/kernel/random/boot_id"));
  h.boot_id = Trim(boot_id);
  BANGER_ASSIGN_OR_RETURN(std::string uptime, ReadFile(root + "/proc/uptime"));
  double seconds = 0;
  std::istringstream up(uptime);
  if (!(up >> seconds) || seconds < 0) {
    return Error(Code::kCorruption, "read " + Quote(root + "/proc/uptime") + ": no uptime in it");
  }
  h.uptime_ms = static_cast<uint64_t>(seconds * 1000);
  BANGER_ASSIGN_OR_RETURN(std::string load, ReadFile(root + "/proc/loadavg"));
  std::istringstream in(load);
  for (auto& l : h.load_centi) {
    double v = 0;
    if (!(in >> v) || v < 0) {
      return Error(Code::kCorruption, "read " + Quote(root + "/proc/loadavg") + ": no load averages");
    }
    l = static_cast<uint32_t>(std::lround(v * 100));
  }
  return h;
}

Result<std::vector<std::string>> ReadHostKeys(const std::string& root) {
  const std::string dir = root + "/etc/ssh";
  std::vector<std::string> keys;
  if (!IsDirectory(dir)) return keys;
  BANGER_ASSIGN_OR_RETURN(auto names, ListDir(dir));
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    if (n.rfind("ssh_host_", 0) != 0 || n.size() < 8 || n.compare(n.size() - 8, 8, "_key.pub") != 0)
      continue;
    BANGER_ASSIGN_OR_RETURN(std::string text, ReadFile(JoinPath(dir, n)));
    std::istringstream line(text);
    std::string type, key;
    if (!(line >> type >> key)) continue;  // empty or half-written: not a key yet
    keys.push_back(type + " " + key);
  }
  return keys;
}

}  // namespace banger::agent
