// One libcurl easy handle: HTTP requests with headers captured, the body
// either buffered (with a cap) or streamed to a sink. Redirects are NOT
// followed here; RegistryClient follows them itself so it can decide per
// hop whether credentials may be sent and whether plain http is allowed.
//
// A session is used by one thread at a time. libcurl's global state is
// initialised once, before any session exists.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "reconciler/base/error.h"

namespace banger::oci {

struct HttpRequest {
  std::string method = "GET";  // GET or HEAD
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names; last value wins
  std::string body;                            // buffered bodies only
  bool streamed = false;                       // the body went to the sink

  std::string Header(const std::string& lower_name) const;
};

// Receives the body of a 2xx response in chunks; an error aborts the
// transfer and is returned from Perform.
using BodySink = std::function<Status(const char* data, size_t len)>;

struct HttpLimits {
  size_t max_buffered_body = 4u << 20;  // larger buffered bodies fail
  std::chrono::seconds connect_timeout{30};
  // Aborts a transfer that moves less than 1 byte/s for this long.
  std::chrono::seconds stall_timeout{60};
};

class HttpSession {
 public:
  explicit HttpSession(HttpLimits limits = {});
  ~HttpSession();
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  // Performs one request. With a sink, a 2xx body is streamed to it and
  // other bodies are buffered (for error messages). Fails on transport
  // errors (kUnavailable/kTimeout), a sink error, or an oversized body.
  Result<HttpResponse> Perform(const HttpRequest& request, const BodySink& sink = nullptr);

 private:
  struct CurlFree {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
  };
  std::unique_ptr<CURL, CurlFree> curl_;
  HttpLimits limits_;
};

// "scheme://host[:port]" of a URL (lower-cased), empty when unparsable.
std::string UrlOrigin(const std::string& url);
// The host of a URL ("127.0.0.1", "::1", "example.com").
std::string UrlHost(const std::string& url);
std::string UrlScheme(const std::string& url);
// Resolves a Location header against the URL it came from.
Result<std::string> ResolveUrl(const std::string& base, const std::string& location);
// Percent-encodes a query parameter value.
std::string UrlEscape(const std::string& value);

}  // namespace banger::oci
