#include "reconciler/runtime/helper_network.h"

#include "reconciler/net/mac_address.h"
#include "reconciler/os/fs.h"
#include "reconciler/runtime/boot_config.h"

namespace banger::runtime {

Status HelperVmNetwork::Ready(const specs::Settings& settings) {
  if (client_ && bridge_ == settings.bridge) return OkStatus();
  if (!client_) {
    BANGER_ASSIGN_OR_RETURN(net::HelperClient c, net::HelperClient::Connect(options_.client));
    client_.emplace(std::move(c));
  }
  BANGER_ASSIGN_OR_RETURN(SubnetInfo subnet, DescribeSubnet(settings.subnet));
  BANGER_RETURN_IF_ERROR(client_->EnsureBridge(
      settings.bridge, subnet.gateway + "/" + std::to_string(subnet.prefix)));
  pool_.reset();
  net::TapPoolOptions pool;
  pool.client = options_.client;
  pool.bridge = settings.bridge;
  pool.size = options_.pool_size;
  BANGER_ASSIGN_OR_RETURN(pool_, net::TapPool::Start(pool));
  bridge_ = settings.bridge;
  return OkStatus();
}

Result<VmNic> HelperVmNetwork::Attach(const std::string& vm, const std::string& ip,
                                      const specs::Settings& settings) {
  std::lock_guard<std::mutex> l(mu_);
  BANGER_RETURN_IF_ERROR(Ready(settings));
  BANGER_ASSIGN_OR_RETURN(SubnetInfo subnet, DescribeSubnet(settings.subnet));
  const auto t0 = std::chrono::steady_clock::now();
  BANGER_ASSIGN_OR_RETURN(net::AcquiredTap tap, pool_->Acquire(vm));
  VmNic nic;
  nic.tap = tap.name;
  nic.fd = std::move(tap.fd);
  nic.mac = net::MacAddressForVm(vm);
  nic.address = ip + "/" + std::to_string(subnet.prefix);
  nic.gateway = subnet.gateway;
  nic.from_pool = tap.from_pool;
  nic.acquire_time = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - t0);
  return nic;
}

Status HelperVmNetwork::Detach(const std::string& tap) {
  std::lock_guard<std::mutex> l(mu_);
  if (pool_) return pool_->Release(tap);
  if (!client_) {
    BANGER_ASSIGN_OR_RETURN(net::HelperClient c, net::HelperClient::Connect(options_.client));
    client_.emplace(std::move(c));
  }
  return client_->DeleteTap(tap);
}

Status HelperVmNetwork::SetNat(const std::string& ip, bool enabled,
                               const specs::Settings& settings) {
  std::lock_guard<std::mutex> l(mu_);
  if (!client_) {
    BANGER_ASSIGN_OR_RETURN(net::HelperClient c, net::HelperClient::Connect(options_.client));
    client_.emplace(std::move(c));
  }
  return enabled ? client_->EnableNat(ip, settings.bridge) : client_->DisableNat(ip);
}

Status HelperVmNetwork::Connected() {
  if (client_) return OkStatus();
  BANGER_ASSIGN_OR_RETURN(net::HelperClient c, net::HelperClient::Connect(options_.client));
  client_.emplace(std::move(c));
  return OkStatus();
}

Status HelperVmNetwork::SetName(const std::string& vm, const std::string& ip,
                                const specs::Settings& settings) {
  std::lock_guard<std::mutex> l(mu_);
  BANGER_RETURN_IF_ERROR(Connected());
  return client_->SetName(settings.bridge, vm, ip);
}

Status HelperVmNetwork::RemoveName(const std::string& vm) {
  std::lock_guard<std::mutex> l(mu_);
  BANGER_RETURN_IF_ERROR(Connected());
  return client_->RemoveName(vm);
}

Status HelperVmNetwork::SetPorts(const std::string& vm, const std::string& ip,
                                 const std::vector<specs::PortSpec>& ports) {
  std::lock_guard<std::mutex> l(mu_);
  BANGER_RETURN_IF_ERROR(Connected());
  if (ports.empty()) return client_->ClearPorts(vm);
  std::vector<helper::PublishedPort> published;
  for (const auto& p : ports) published.push_back({p.host_address, p.host_port, p.proto, p.guest_port});
  return client_->SetPorts(vm, ip, published);
}

bool HelperVmNetwork::TapPresent(const std::string& tap) {
  return PathExists("/sys/class/net/" + tap);
}

}  // namespace banger::runtime
