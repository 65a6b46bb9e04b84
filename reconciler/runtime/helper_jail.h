// JailLauncher through the root helper's jail_start and jail_remove.
// Connects on first use, so nothing needs the helper until a jailed VM
// boots or stops.
#pragma once

#include <mutex>
#include <optional>

#include "reconciler/net/helper_client.h"
#include "reconciler/vmm/firecracker/jail_launcher.h"

namespace banger::runtime {

class HelperJailLauncher : public vmm::JailLauncher {
 public:
  explicit HelperJailLauncher(net::HelperClientOptions options) : options_(std::move(options)) {}

  Result<vmm::JailedProcess> Start(const vmm::JailLaunch& launch) override;
  Status Remove(const std::string& vm) override;

 private:
  Result<net::HelperClient*> Client();

  net::HelperClientOptions options_;
  std::mutex mu_;
  std::optional<net::HelperClient> client_;
};

}  // namespace banger::runtime
