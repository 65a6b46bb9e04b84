#include "reconciler/vmm/firecracker/api_client.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

namespace banger::vmm {
namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;
using CurlList = std::unique_ptr<curl_slist, SlistDeleter>;

constexpr size_t kMaxResponse = 1u << 20;

size_t Collect(char* data, size_t size, size_t nmemb, void* user) {
  auto* out = static_cast<std::string*>(user);
  size_t n = size * nmemb;
  if (out->size() + n > kMaxResponse) return 0;  // aborts the transfer
  out->append(data, n);
  return n;
}

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

std::string FaultMessage(const std::string& body) {
  auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object()) {
    auto it = parsed.find("fault_message");
    if (it != parsed.end() && it->is_string()) return it->get<std::string>();
  }
  return Trim(body.substr(0, 500));
}

FirecrackerApiClient::FirecrackerApiClient(std::string socket_path,
                                           std::chrono::milliseconds timeout)
    : socket_path_(std::move(socket_path)), timeout_(timeout) {}

Result<ApiResponse> FirecrackerApiClient::Exchange(const ApiRequest& request) {
  const std::string what = "firecracker: " + request.method + " " + request.path;
  InitCurlOnce();
  CurlHandle curl(curl_easy_init());
  if (!curl) return Internal(what + ": curl_easy_init failed");
  // The host part is ignored on a unix socket but must be present.
  const std::string url = "http://localhost" + request.path;
  const std::string body = request.body.is_null() ? "" : request.body.dump();
  CurlList headers;
  for (const char* h : {"Accept: application/json", "Content-Type: application/json", "Expect:"}) {
    curl_slist* grown = curl_slist_append(headers.get(), h);
    if (!grown) return Internal(what + ": out of memory");
    (void)headers.release();
    headers.reset(grown);
  }
  ApiResponse response;
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, socket_path_.c_str());
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  if (!request.body.is_null()) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &Collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response.body);
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    Code code = rc == CURLE_OPERATION_TIMEDOUT ? Code::kTimeout : Code::kUnavailable;
    return Error(code, what + " on " + Quote(socket_path_) + ": " + curl_easy_strerror(rc));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

Status FirecrackerApiClient::Send(const ApiRequest& request) {
  BANGER_ASSIGN_OR_RETURN(ApiResponse response, Exchange(request));
  if (response.status >= 200 && response.status < 300) return OkStatus();
  const std::string what = "firecracker: " + request.method + " " + request.path;
  std::string fault = FaultMessage(response.body);
  if (fault.empty()) fault = "HTTP " + std::to_string(response.status);
  Code code = response.status == 400 ? Code::kInvalidArgument : Code::kUnavailable;
  return Error(code, what + ": " + fault);
}

}  // namespace banger::vmm
