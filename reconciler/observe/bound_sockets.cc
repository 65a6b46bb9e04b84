#include "reconciler/observe/bound_sockets.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <sstream>

#include "reconciler/os/fs.h"

namespace banger::observe {
namespace {

constexpr int kTcpListen = 0x0A;
constexpr int kUdpUnconnected = 0x07;

// The kernel prints each 32-bit word of the address in host byte order.
bool ParseAddress(const std::string& hex, bool ipv6, std::string* out) {
  size_t words = ipv6 ? 4 : 1;
  if (hex.size() != words * 8) return false;
  uint32_t raw[4] = {};
  for (size_t i = 0; i < words; ++i) {
    raw[i] = static_cast<uint32_t>(std::stoul(hex.substr(i * 8, 8), nullptr, 16));
  }
  in_addr v4{};
  if (ipv6) {
    in6_addr v6{};
    std::memcpy(&v6, raw, sizeof v6);
    if (IN6_IS_ADDR_UNSPECIFIED(&v6)) {
      *out = "0.0.0.0";
      return true;
    }
    if (!IN6_IS_ADDR_V4MAPPED(&v6)) return false;
    std::memcpy(&v4, &v6.s6_addr[12], 4);
  } else {
    v4.s_addr = raw[0];
  }
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &v4, text, sizeof text);
  *out = text;
  return true;
}

// socket inode -> pid, from the fds of every process the caller may read.
std::map<uint64_t, int> SocketOwners(const std::set<uint64_t>& inodes) {
  std::map<uint64_t, int> owners;
  DIR* proc = opendir("/proc");
  if (!proc) return owners;
  while (dirent* e = readdir(proc)) {
    int pid = atoi(e->d_name);
    if (pid <= 0) continue;
    std::string fd_dir = "/proc/" + std::string(e->d_name) + "/fd";
    DIR* fds = opendir(fd_dir.c_str());
    if (!fds) continue;
    while (dirent* f = readdir(fds)) {
      char target[64] = {};
      std::string link = fd_dir + "/" + f->d_name;
      ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
      if (n <= 8 || std::strncmp(target, "socket:[", 8) != 0) continue;
      uint64_t inode = std::strtoull(target + 8, nullptr, 10);
      if (inodes.count(inode) && !owners.count(inode)) owners[inode] = pid;
    }
    closedir(fds);
  }
  closedir(proc);
  return owners;
}

}  // namespace

std::vector<ProcNetSocket> ParseProcNet(const std::string& text, const std::string& proto,
                                        bool ipv6, const std::set<uint32_t>& ports) {
  std::vector<ProcNetSocket> out;
  std::istringstream lines(text);
  std::string line;
  std::getline(lines, line);  // header
  const int wanted = proto == "tcp" ? kTcpListen : kUdpUnconnected;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout;
    uint64_t inode = 0;
    if (!(fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
          timeout >> inode))
      continue;
    size_t colon = local.find(':');
    if (colon == std::string::npos) continue;
    try {
      if (std::stoi(state, nullptr, 16) != wanted) continue;
      uint32_t port = static_cast<uint32_t>(std::stoul(local.substr(colon + 1), nullptr, 16));
      if (!ports.count(port)) continue;
      ProcNetSocket s;
      if (!ParseAddress(local.substr(0, colon), ipv6, &s.socket.address)) continue;
      s.socket.proto = proto;
      s.socket.port = port;
      s.inode = inode;
      out.push_back(std::move(s));
    } catch (const std::exception&) {
      continue;  // a line this parser does not understand names no socket
    }
  }
  return out;
}

std::vector<plan::BoundSocket> ReadBoundSockets(const std::set<uint32_t>& ports) {
  std::vector<ProcNetSocket> found;
  for (const auto& [file, proto, ipv6] :
       {std::tuple{"/proc/net/tcp", "tcp", false}, std::tuple{"/proc/net/tcp6", "tcp", true},
        std::tuple{"/proc/net/udp", "udp", false}, std::tuple{"/proc/net/udp6", "udp", true}}) {
    auto text = ReadFile(file);
    if (!text.ok()) continue;  // no IPv6 on this host, for one
    auto sockets = ParseProcNet(*text, proto, ipv6, ports);
    found.insert(found.end(), sockets.begin(), sockets.end());
  }
  std::set<uint64_t> inodes;
  for (const auto& s : found) inodes.insert(s.inode);
  std::map<uint64_t, int> owners = found.empty() ? std::map<uint64_t, int>{} : SocketOwners(inodes);
  std::vector<plan::BoundSocket> out;
  for (auto& s : found) {
    if (auto it = owners.find(s.inode); it != owners.end()) {
      s.socket.pid = it->second;
      auto comm = ReadFile("/proc/" + std::to_string(it->second) + "/comm");
      if (comm.ok()) {
        s.socket.command = *comm;
        while (!s.socket.command.empty() && s.socket.command.back() == '\n')
          s.socket.command.pop_back();
      }
    }
    out.push_back(std::move(s.socket));
  }
  return out;
}

}  // namespace banger::observe
