// VmNetwork through the root helper: the bridge, taps from the warm pool,
// and NAT. Connects lazily, so planning and inspection never need the
// helper; the first VM boot does.
#pragma once

#include <memory>
#include <mutex>

#include "reconciler/net/helper_client.h"
#include "reconciler/net/tap_pool.h"
#include "reconciler/runtime/vm_services.h"

namespace banger::runtime {

struct HelperNetworkOptions {
  net::HelperClientOptions client;
  size_t pool_size = 2;  // $BANGER_TAP_POOL overrides
};

class HelperVmNetwork : public VmNetwork {
 public:
  explicit HelperVmNetwork(HelperNetworkOptions options) : options_(std::move(options)) {}

  Result<VmNic> Attach(const std::string& vm, const std::string& ip,
                       const specs::Settings& settings) override;
  Status Detach(const std::string& tap) override;
  Status SetNat(const std::string& ip, bool enabled, const specs::Settings& settings) override;
  bool TapPresent(const std::string& tap) override;
  Status SetName(const std::string& vm, const std::string& ip,
                 const specs::Settings& settings) override;
  Status RemoveName(const std::string& vm) override;
  Status SetPorts(const std::string& vm, const std::string& ip,
                  const std::vector<specs::PortSpec>& ports) override;

 private:
  // Connects and makes sure the bridge and the pool exist (once).
  Status Ready(const specs::Settings& settings);
  Status Connected();

  HelperNetworkOptions options_;
  std::mutex mu_;
  std::optional<net::HelperClient> client_;
  std::unique_ptr<net::TapPool> pool_;
  std::string bridge_;
};

}  // namespace banger::runtime
