// HTTP over Firecracker's API unix socket (libcurl). libcurl stays inside
// this adapter; callers see Status values only.
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "reconciler/base/error.h"
#include "reconciler/vmm/firecracker/api_requests.h"

namespace banger::vmm {

struct ApiResponse {
  long status = 0;
  std::string body;
};

class FirecrackerApiClient {
 public:
  FirecrackerApiClient(std::string socket_path, std::chrono::milliseconds timeout);

  // Sends the request; a 2xx answer is success. Any other answer becomes an
  // error "firecracker: PUT /drives/rootfs: <fault_message>" (code
  // kInvalidArgument for 400).
  Status Send(const ApiRequest& request);

  // The raw exchange, for callers that read the answer (GET).
  Result<ApiResponse> Exchange(const ApiRequest& request);

 private:
  std::string socket_path_;
  std::chrono::milliseconds timeout_;
};

// The fault_message of an error body, or the body itself when it is not the
// documented shape.
std::string FaultMessage(const std::string& body);

}  // namespace banger::vmm
