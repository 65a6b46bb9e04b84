#include "tests/integration/helper/hostile_requests.h"

#include <nlohmann/json.hpp>

#include "helper/protocol/codec.h"

namespace banger::testing {

namespace {

using nlohmann::json;

const std::vector<std::string> kTapNames = {
    // names a tap of banger's may have, and everything a peer might try instead
    "bgt-a1", "bgt-b2", "bgt-c3", "bgt-d4", "lo", "eth0", "", "bg0/../x", "bgt-",
    "bgt-0123456789abcdef", "bgT-1", "bgt-\xc3\xa9", "bgt-a1\n", kForeignTap, kForeignBridge,
    "bg0", "bgt-a1 ", "bgt-%s%n"};
const std::vector<std::string> kBridges = {"bg0",  "bg1",     kForeignBridge, "lo", kForeignTap,
                                           "bg_0", "",        "bg0/..",       "bg" + std::string(20, 'x'),
                                           "bgt-a1"};
const std::vector<std::string> kCidrs = {"172.30.0.1/24", "172.31.0.1/24", "172.30.0.1/16",
                                         "172.30.0.0/24", "172.30.0.1",    "172.30.0.1/31",
                                         "10.0.0.1/33",   "::1/64",        "300.1.1.1/24",
                                         "1.2.3.4/0",     ""};
const std::vector<std::string> kGuests = {"172.30.0.5", "172.30.0.6",   "172.31.0.9", "172.30.0.1",
                                          "172.30.0.255", "172.30.0.0", "300.1.1.1",  "::1",
                                          "0.0.0.0",    "127.0.0.1",    "",           "172.30.0.5/24"};
const std::vector<std::string> kVms = {"web", "db", "a-b.c", "web vm", "../x", "", "WEB",
                                       std::string(200, 'v'), "web\0x", "-web"};
const std::vector<std::string> kPaths = {"/k/vmlinux", "/etc/shadow", "relative", "/a/../b",
                                         "/", "", "/proc/self/root/etc/passwd", "/a//b",
                                         "/" + std::string(5000, 'p')};
const std::vector<std::string> kDriveIds = {"rootfs", "work", "../root", "", "Root",
                                            std::string(40, 'd')};
const std::vector<std::string> kProtos = {"tcp", "udp", "sctp", "", "TCP"};
const std::vector<std::string> kOps = {
    "ping",    "ensure_bridge", "create_tap", "open_tap",   "assign_tap", "delete_tap",
    "list_taps", "nat_enable",  "nat_disable", "jail_start", "jail_remove", "name_set",
    "name_remove", "ports_set", "ports_clear", "format_disk", ""};

}  // namespace

const std::vector<std::string>& HostileOwnBridges() {
  static const std::vector<std::string> bridges = {"bg0", "bg1"};
  return bridges;
}

const std::vector<std::string>& HostileBridgeAddresses() {
  static const std::vector<std::string> addresses = {"172.30.0.1/24", "172.31.0.1/24"};
  return addresses;
}

std::string HostileRequests::WellFormed() {
  const std::string& op = Pick(kOps);
  json j = {{"op", op}};
  auto port = [&]() -> json {
    static const int64_t kPorts[] = {0, 1, 22, 80, 8080, 65535, 65536, -1, 1LL << 40};
    return kPorts[Below(std::size(kPorts))];
  };
  if (op == "ensure_bridge") {
    j["name"] = Pick(kBridges);
    j["address"] = Pick(kCidrs);
  } else if (op == "create_tap") {
    j["name"] = Pick(kTapNames);
    j["bridge"] = Pick(kBridges);
  } else if (op == "open_tap" || op == "delete_tap") {
    j["name"] = Pick(kTapNames);
  } else if (op == "assign_tap") {
    j["name"] = Pick(kTapNames);
    j["vm"] = Pick(kVms);
  } else if (op == "nat_enable") {
    j["address"] = Pick(kGuests);
    j["bridge"] = Pick(kBridges);
  } else if (op == "nat_disable") {
    j["address"] = Pick(kGuests);
  } else if (op == "jail_start") {
    j["vm"] = Pick(kVms);
    j["kernel"] = Pick(kPaths);
    j["initrd"] = Pick(kPaths);
    json drives = json::array();
    for (size_t i = Below(4); i > 0; --i)
      drives.push_back({{"id", Pick(kDriveIds)}, {"path", Pick(kPaths)}});
    j["drives"] = drives;
  } else if (op == "jail_remove" || op == "name_remove" || op == "ports_clear") {
    j["vm"] = Pick(kVms);
  } else if (op == "name_set") {
    j["bridge"] = Pick(kBridges);
    j["vm"] = Pick(kVms);
    j["address"] = Pick(kGuests);
  } else if (op == "ports_set") {
    j["vm"] = Pick(kVms);
    j["address"] = Pick(kGuests);
    json ports = json::array();
    for (size_t i = Below(4); i > 0; --i)
      ports.push_back({{"host_address", Pick(kGuests)},
                       {"host_port", port()},
                       {"proto", Pick(kProtos)},
                       {"guest_port", port()}});
    j["ports"] = ports;
  }
  // The codec must refuse what is not valid UTF-8; dump() would throw.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string HostileRequests::Malformed() {
  json j = json::parse(WellFormed());
  std::vector<std::string> keys;
  for (const auto& item : j.items()) keys.push_back(item.key());
  switch (Below(4)) {
    case 0:
      j.erase(Pick(keys));
      break;
    case 1:
      j["extra"] = Below(2) ? json(true) : json("x");
      break;
    case 2: {
      static const json kValues[] = {nullptr, 7, -1, 1.5, "", json::array(), json::object(),
                                     true};
      j[Pick(keys)] = kValues[Below(std::size(kValues))];
      break;
    }
    default:
      return "[" + j.dump() + "]";
  }
  return j.dump();
}

std::string HostileRequests::Mutated() {
  std::string s = Below(2) ? WellFormed() : Malformed();
  for (size_t edits = 1 + Below(4); edits > 0 && !s.empty(); --edits) {
    size_t at = Below(s.size());
    switch (Below(4)) {
      case 0: s[at] = static_cast<char>(Below(256)); break;
      case 1: s.insert(at, 1, static_cast<char>(Below(256))); break;
      case 2: s.erase(at, 1); break;
      default: s.resize(at); break;  // a truncated frame
    }
  }
  return s;
}

std::string HostileRequests::RandomJson(int depth) {
  switch (depth <= 0 ? Below(4) : Below(6)) {
    case 0: return std::to_string(static_cast<int64_t>(rng_()));
    case 1: return "\"" + Pick(kOps) + "\"";
    case 2: return "null";
    case 3: return Below(2) ? "true" : "1e309";
    case 4: {
      std::string out = "[";
      for (size_t i = Below(4); i > 0; --i) out += RandomJson(depth - 1) + (i > 1 ? "," : "");
      return out + "]";
    }
    default: {
      std::string out = "{";
      for (size_t i = Below(4); i > 0; --i)
        out += "\"" + Pick(kOps) + "\":" + RandomJson(depth - 1) + (i > 1 ? "," : "");
      return out + "}";
    }
  }
}

std::string HostileRequests::RandomBytes(size_t max) {
  std::string s(Below(max + 1), '\0');
  for (char& c : s) c = static_cast<char>(Below(256));
  return s;
}

std::string HostileRequests::Next() {
  size_t roll = Below(1000);
  if (roll < 450) return WellFormed();
  if (roll < 650) return Malformed();
  if (roll < 850) return Mutated();
  if (roll < 930) return RandomJson(3);
  if (roll < 995) return RandomBytes(256);
  // Exactly at the limit, mostly padding: the largest frame a peer may send.
  return "{\"op\":\"ping\",\"pad\":\"" + std::string(helper::kMaxFrameSize - 22, 'p') + "\"}";
}

}  // namespace banger::testing
