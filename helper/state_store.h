// The helper's record of what it created, one JSON file per owner uid in a
// root-owned directory (default /var/lib/banger-helper/<uid>.json, 0600).
//
// The record is the helper's authority: it touches a link, jail or NAT
// rule only when the record says it made it, so
// a request naming `eth0`, `lo` or someone else's `bg` link is refused even
// though the name passes validation. Writes replace the file by rename, so a
// reader never sees half a record.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "helper/protocol/protocol.h"
#include "reconciler/base/error.h"

namespace banger::helper {

struct BridgeRecord {
  std::string name;
  std::string address;  // "172.30.0.1/24"
};

struct TapRecord {
  std::string name;
  std::string bridge;
  std::string vm;  // empty while free
};

struct NatRecord {
  std::string address;  // the guest's IPv4 address
  std::string bridge;
};

// The ports one VM publishes and the guest address they forward to.
struct PortRecord {
  std::string vm;
  std::string address;
  std::vector<PublishedPort> ports;
};

// A jail the helper made and the jailer it started there.
struct JailRecord {
  std::string vm;
  std::string dir;           // <jail base>/firecracker/<id>
  uint32_t pid = 0;
  uint64_t start_ticks = 0;  // tells the jailed process from a recycled PID
};

struct HelperState {
  uint32_t owner_uid = 0;
  std::vector<BridgeRecord> bridges;
  std::vector<TapRecord> taps;
  std::vector<NatRecord> nat;
  std::vector<JailRecord> jails;
  std::vector<PortRecord> ports;

  BridgeRecord* FindBridge(const std::string& name);
  TapRecord* FindTap(const std::string& name);
  NatRecord* FindNat(const std::string& address);
  JailRecord* FindJail(const std::string& vm);
  PortRecord* FindPorts(const std::string& vm);
};

std::string EncodeState(const HelperState& state);
Result<HelperState> DecodeState(const std::string& text);

class StateStore {
 public:
  // Creates `dir` (0700) when missing and loads "<dir>/<owner>.json"; a
  // missing file is an empty record. A record for another uid is refused.
  static Result<StateStore> Open(const std::string& dir, uid_t owner);

  const std::string& path() const { return path_; }
  HelperState& state() { return state_; }

  // Writes the current state durably.
  Status Save();

 private:
  StateStore(std::string path, HelperState state)
      : path_(std::move(path)), state_(std::move(state)) {}
  std::string path_;
  HelperState state_;
};

}  // namespace banger::helper
