#include "reconciler/runtime/helper_jail.h"

namespace banger::runtime {

Result<net::HelperClient*> HelperJailLauncher::Client() {
  if (!client_) {
    BANGER_ASSIGN_OR_RETURN(net::HelperClient c, net::HelperClient::Connect(options_));
    client_.emplace(std::move(c));
  }
  return &*client_;
}

Result<vmm::JailedProcess> HelperJailLauncher::Start(const vmm::JailLaunch& launch) {
  std::lock_guard<std::mutex> l(mu_);
  BANGER_ASSIGN_OR_RETURN(net::HelperClient * client, Client());
  helper::JailStartRequest request;
  request.vm = launch.vm;
  request.kernel = launch.kernel;
  request.initrd = launch.initrd;
  for (const auto& [id, path] : launch.drives) request.drives.push_back({id, path});
  BANGER_ASSIGN_OR_RETURN(helper::JailResponse r, client->StartJail(request, launch.console_fd));
  return vmm::JailedProcess{static_cast<pid_t>(r.pid), r.root};
}

Status HelperJailLauncher::Remove(const std::string& vm) {
  std::lock_guard<std::mutex> l(mu_);
  BANGER_ASSIGN_OR_RETURN(net::HelperClient * client, Client());
  return client->RemoveJail(vm);
}

}  // namespace banger::runtime
