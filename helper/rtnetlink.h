// The few rtnetlink requests the helper needs, sent on a NETLINK_ROUTE socket
// of the calling thread's network namespace. Each call waits for the
// kernel's acknowledgement, so a success means the change is in place.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "helper/protocol/names.h"
#include "reconciler/base/error.h"
#include "reconciler/os/unique_fd.h"

namespace banger::helper {

struct LinkInfo {
  int index = 0;
  std::string kind;    // IFLA_INFO_KIND: "bridge", "tun", "veth"; empty if none
  int master = 0;      // ifindex of the bridge it is attached to, 0 if none
  bool up = false;     // IFF_UP
};

class Rtnetlink {
 public:
  static Result<Rtnetlink> Open();

  // The link named `name`, or nullopt when there is none.
  Result<std::optional<LinkInfo>> GetLink(const std::string& name);

  Status CreateBridge(const std::string& name);
  Status SetUp(int index);
  Status SetMaster(int index, int master_index);
  Status DeleteLink(int index);

  // Makes `cidr` the only IPv4 address of the link.
  Status ReplaceIpv4Addresses(int index, const Ipv4Cidr& cidr);

 private:
  explicit Rtnetlink(UniqueFd fd) : fd_(std::move(fd)) {}

  // Sends one request and waits for its acknowledgement.
  Status Transact(std::string& message, const std::string& what);

  UniqueFd fd_;
  uint32_t seq_ = 1;
};

}  // namespace banger::helper
