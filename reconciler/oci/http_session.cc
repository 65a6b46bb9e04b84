#include "reconciler/oci/http_session.h"

#include <algorithm>
#include <mutex>
#include <optional>

namespace banger::oci {

namespace {

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct SlistFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
struct UrlFree {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
using UrlPtr = std::unique_ptr<CURLU, UrlFree>;

// State shared with the libcurl callbacks during one Perform.
struct Transfer {
  CURL* curl;
  const BodySink* sink;
  size_t max_buffered;
  HttpResponse* response;
  std::optional<Error> failure;  // why a callback aborted the transfer
  bool status_known = false;
  bool stream = false;
};

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string line(data, size * n);
  // A new status line (after a 100 Continue) starts a fresh header set.
  if (line.rfind("HTTP/", 0) == 0) {
    t->response->headers.clear();
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
      value.pop_back();
    t->response->headers[Lower(line.substr(0, colon))] = value;
  }
  return size * n;
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  if (!t->status_known) {
    long status = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
    t->status_known = true;
    t->stream = t->sink && *t->sink && status >= 200 && status < 300;
    t->response->streamed = t->stream;
  }
  if (t->stream) {
    Status st = (*t->sink)(data, len);
    if (!st.ok()) {
      t->failure = std::move(st).error();
      return 0;
    }
    return len;
  }
  if (t->response->body.size() + len > t->max_buffered) {
    t->failure = Error(Code::kCorruption, "response body larger than " +
                                              std::to_string(t->max_buffered) + " bytes");
    return 0;
  }
  t->response->body.append(data, len);
  return len;
}

}  // namespace

std::string HttpResponse::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

HttpSession::HttpSession(HttpLimits limits) : limits_(limits) {
  InitCurlOnce();
  curl_.reset(curl_easy_init());
}

HttpSession::~HttpSession() = default;

Result<HttpResponse> HttpSession::Perform(const HttpRequest& request, const BodySink& sink) {
  if (!curl_) return Internal("curl_easy_init failed");
  CURL* c = curl_.get();
  curl_easy_reset(c);
  HttpResponse response;
  Transfer t{c, &sink, limits_.max_buffered_body, &response, std::nullopt};
  std::unique_ptr<curl_slist, SlistFree> headers;
  for (const auto& h : request.headers) {
    curl_slist* next = curl_slist_append(headers.get(), h.c_str());
    if (!next) return Internal("curl_slist_append failed");
    (void)headers.release();
    headers.reset(next);
  }
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // safe with threads
  curl_easy_setopt(c, CURLOPT_USERAGENT, "banger/0.1");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(limits_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(limits_.stall_timeout.count()));
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  if (request.method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);

  CURLcode rc = curl_easy_perform(c);
  if (t.failure) return *t.failure;
  if (rc != CURLE_OK) {
    std::string why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    Code code = rc == CURLE_OPERATION_TIMEDOUT ? Code::kTimeout : Code::kUnavailable;
    return Error(code, request.method + " " + request.url + ": " + why);
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

namespace {
std::string UrlPart(const std::string& url, CURLUPart part) {
  UrlPtr u(curl_url());
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return "";
  char* value = nullptr;
  if (curl_url_get(u.get(), part, &value, 0) != CURLUE_OK) return "";
  std::string out(value);
  curl_free(value);
  return out;
}
}  // namespace

std::string UrlScheme(const std::string& url) { return Lower(UrlPart(url, CURLUPART_SCHEME)); }

std::string UrlHost(const std::string& url) {
  std::string host = Lower(UrlPart(url, CURLUPART_HOST));
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return host;
}

std::string UrlOrigin(const std::string& url) {
  UrlPtr u(curl_url());
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return "";
  char* port = nullptr;
  // CURLU_DEFAULT_PORT makes "https://h" and "https://h:443" compare equal.
  if (curl_url_get(u.get(), CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) return "";
  std::string origin = UrlScheme(url) + "://" + Lower(UrlPart(url, CURLUPART_HOST)) + ":" + port;
  curl_free(port);
  return origin;
}

Result<std::string> ResolveUrl(const std::string& base, const std::string& location) {
  UrlPtr u(curl_url());
  if (!u || curl_url_set(u.get(), CURLUPART_URL, base.c_str(), 0) != CURLUE_OK ||
      curl_url_set(u.get(), CURLUPART_URL, location.c_str(), 0) != CURLUE_OK)
    return Error(Code::kCorruption, "bad redirect location " + Quote(location));
  char* value = nullptr;
  if (curl_url_get(u.get(), CURLUPART_URL, &value, 0) != CURLUE_OK)
    return Error(Code::kCorruption, "bad redirect location " + Quote(location));
  std::string out(value);
  curl_free(value);
  return out;
}

std::string UrlEscape(const std::string& value) {
  char* e = curl_easy_escape(nullptr, value.c_str(), static_cast<int>(value.size()));
  std::string out = e ? e : "";
  curl_free(e);
  return out;
}

}  // namespace banger::oci
