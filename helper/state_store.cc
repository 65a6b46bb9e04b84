#include "helper/state_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "reconciler/os/fs.h"
#include "reconciler/os/unique_fd.h"

namespace banger::helper {

using nlohmann::json;

namespace {

template <typename T, typename Key>
T* FindBy(std::vector<T>& items, const std::string& value, Key key) {
  auto it = std::find_if(items.begin(), items.end(),
                         [&](const T& item) { return item.*key == value; });
  return it == items.end() ? nullptr : &*it;
}

constexpr int kFormat = 1;

}  // namespace

BridgeRecord* HelperState::FindBridge(const std::string& name) {
  return FindBy(bridges, name, &BridgeRecord::name);
}
TapRecord* HelperState::FindTap(const std::string& name) {
  return FindBy(taps, name, &TapRecord::name);
}
NatRecord* HelperState::FindNat(const std::string& address) {
  return FindBy(nat, address, &NatRecord::address);
}
JailRecord* HelperState::FindJail(const std::string& vm) {
  return FindBy(jails, vm, &JailRecord::vm);
}
PortRecord* HelperState::FindPorts(const std::string& vm) {
  return FindBy(ports, vm, &PortRecord::vm);
}

std::string EncodeState(const HelperState& s) {
  json j = {{"format", kFormat}, {"owner_uid", s.owner_uid}};
  j["bridges"] = json::array();
  for (const auto& b : s.bridges) j["bridges"].push_back({{"name", b.name}, {"address", b.address}});
  j["taps"] = json::array();
  for (const auto& t : s.taps) {
    j["taps"].push_back({{"name", t.name}, {"bridge", t.bridge}, {"vm", t.vm}});
  }
  j["nat"] = json::array();
  for (const auto& n : s.nat) j["nat"].push_back({{"address", n.address}, {"bridge", n.bridge}});
  j["jails"] = json::array();
  for (const auto& r : s.jails) {
    j["jails"].push_back({{"vm", r.vm}, {"dir", r.dir}, {"pid", r.pid},
                          {"start_ticks", r.start_ticks}});
  }
  j["ports"] = json::array();
  for (const auto& r : s.ports) {
    json list = json::array();
    for (const auto& p : r.ports) {
      list.push_back({{"host_address", p.host_address}, {"host_port", p.host_port},
                      {"proto", p.proto}, {"guest_port", p.guest_port}});
    }
    j["ports"].push_back({{"vm", r.vm}, {"address", r.address}, {"ports", std::move(list)}});
  }
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<HelperState> DecodeState(const std::string& text) {
  // The record is written only by the helper; nlohmann's exceptions for a
  // damaged file stop here and become one Corruption error.
  try {
    json j = json::parse(text);
    if (j.at("format").get<int>() != kFormat) {
      return Error(Code::kCorruption, "unsupported record format " + j.at("format").dump());
    }
    HelperState s;
    s.owner_uid = j.at("owner_uid").get<uint32_t>();
    for (const auto& b : j.at("bridges")) {
      s.bridges.push_back({b.at("name").get<std::string>(), b.at("address").get<std::string>()});
    }
    for (const auto& t : j.at("taps")) {
      s.taps.push_back({t.at("name").get<std::string>(), t.at("bridge").get<std::string>(),
                        t.at("vm").get<std::string>()});
    }
    for (const auto& n : j.at("nat")) {
      s.nat.push_back({n.at("address").get<std::string>(), n.at("bridge").get<std::string>()});
    }
    // Records written before jails existed have no "jails".
    if (j.contains("jails")) {
      for (const auto& r : j.at("jails")) {
        s.jails.push_back({r.at("vm").get<std::string>(), r.at("dir").get<std::string>(),
                           r.at("pid").get<uint32_t>(), r.at("start_ticks").get<uint64_t>()});
      }
    }
    // Records written before published ports existed have no "ports".
    if (j.contains("ports")) {
      for (const auto& r : j.at("ports")) {
        PortRecord rec{r.at("vm").get<std::string>(), r.at("address").get<std::string>(), {}};
        for (const auto& p : r.at("ports")) {
          rec.ports.push_back({p.at("host_address").get<std::string>(),
                               p.at("host_port").get<uint32_t>(), p.at("proto").get<std::string>(),
                               p.at("guest_port").get<uint32_t>()});
        }
        s.ports.push_back(std::move(rec));
      }
    }
    return s;
  } catch (const json::exception& e) {
    return Error(Code::kCorruption, std::string("malformed record: ") + e.what());
  }
}

Result<StateStore> StateStore::Open(const std::string& dir, uid_t owner) {
  BANGER_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  std::string path = JoinPath(dir, std::to_string(owner) + ".json");
  if (!PathExists(path)) {
    HelperState empty;
    empty.owner_uid = owner;
    return StateStore(path, std::move(empty));
  }
  BANGER_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto state = DecodeState(text);
  if (!state.ok()) return state.error().WithContext("load helper record " + Quote(path));
  if (state->owner_uid != owner) {
    return Error(Code::kCorruption, "helper record " + Quote(path) + " belongs to uid " +
                                        std::to_string(state->owner_uid) + ", not " +
                                        std::to_string(owner));
  }
  return StateStore(path, std::move(state).value());
}

Status StateStore::Save() {
  // Temp file + rename keeps the record whole if the helper dies mid-write.
  // No fsync: taps, bridges, jailed processes and NAT rules vanish at a host
  // reboot anyway, and the fsyncs would put tens of milliseconds on every VM
  // start (assign_tap) of a busy host. A jail directory outlives a reboot;
  // losing its record only makes jail_start refuse it, naming the path.
  std::string tmp = path_ + ".tmp";
  std::string text = EncodeState(state_);
  UniqueFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return Error::FromErrno("save helper record: open " + Quote(tmp));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno("save helper record: write " + Quote(tmp));
    done += static_cast<size_t>(n);
  }
  fd.Reset();
  if (rename(tmp.c_str(), path_.c_str()) != 0) {
    return Error::FromErrno("save helper record: rename to " + Quote(path_));
  }
  return OkStatus();
}

}  // namespace banger::helper
