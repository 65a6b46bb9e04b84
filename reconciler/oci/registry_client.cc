#include "reconciler/oci/registry_client.h"

#include <nlohmann/json.hpp>

#include "reconciler/oci/reference.h"

namespace banger::oci {

namespace {

constexpr int kMaxRedirects = 5;

bool IsRedirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// The registry's own error text ({"errors":[{"code":..,"message":..}]}),
// if the body has one.
std::string RegistryErrorText(const std::string& body) {
  try {
    auto doc = nlohmann::json::parse(body);
    std::string out;
    for (const auto& e : doc.at("errors")) {
      if (!out.empty()) out += "; ";
      out += e.value("code", "") + ": " + e.value("message", "");
    }
    return out;
  } catch (const nlohmann::json::exception&) {
    return body.size() > 200 ? body.substr(0, 200) : body;
  }
}

}  // namespace

RegistryClient::RegistryClient(std::string registry, RegistryOptions options)
    : registry_(std::move(registry)), options_(std::move(options)) {
  const std::string host = options_.mirror.empty() ? RegistryApiHost(registry_) : options_.mirror;
  const bool plain =
      options_.insecure || IsLoopbackRegistry(options_.mirror.empty() ? registry_ : options_.mirror);
  base_url_ = std::string(plain ? "http" : "https") + "://" + host;
}

RegistryClient::~RegistryClient() = default;

// Returns the borrowed session to the pool on scope exit.
class RegistryClient::Lease {
 public:
  explicit Lease(RegistryClient& c) : client_(c), session_(c.Borrow()) {}
  ~Lease() { client_.Return(std::move(session_)); }
  HttpSession& operator*() { return *session_; }

 private:
  RegistryClient& client_;
  std::unique_ptr<HttpSession> session_;
};

std::unique_ptr<HttpSession> RegistryClient::Borrow() {
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.empty()) {
    HttpLimits limits = options_.http;
    limits.max_buffered_body = options_.max_manifest_bytes;
    return std::make_unique<HttpSession>(limits);
  }
  auto s = std::move(idle_.back());
  idle_.pop_back();
  return s;
}

void RegistryClient::Return(std::unique_ptr<HttpSession> session) {
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(std::move(session));
}

Status RegistryClient::CheckScheme(const std::string& url) const {
  std::string scheme = UrlScheme(url);
  if (scheme == "https") return OkStatus();
  std::string host = UrlHost(url);
  if (scheme == "http" && (options_.insecure || IsLoopbackRegistry(host.find(':') != std::string::npos
                                                                       ? "[" + host + "]"
                                                                       : host)))
    return OkStatus();
  return Error(Code::kPermissionDenied,
               "refusing " + Quote(url) + ": plain http is allowed only for loopback "
               "registries or with insecure set");
}

std::string RegistryClient::AuthHeader(const std::string& scope) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = tokens_.find(scope); it != tokens_.end())
    return "Authorization: Bearer " + it->second;
  if (use_basic_ && options_.credentials)
    return "Authorization: Basic " +
           Base64Encode(options_.credentials->username + ":" + options_.credentials->password);
  return "";
}

Result<HttpResponse> RegistryClient::FollowRedirects(HttpSession& session, std::string url,
                                                     const std::vector<std::string>& headers,
                                                     const std::string& auth,
                                                     const BodySink& sink) {
  const std::string origin = UrlOrigin(base_url_);
  for (int hop = 0; hop <= kMaxRedirects; ++hop) {
    BANGER_RETURN_IF_ERROR(CheckScheme(url));
    HttpRequest req;
    req.url = url;
    req.headers = headers;
    // Credentials belong to the registry's origin only.
    if (!auth.empty() && UrlOrigin(url) == origin) req.headers.push_back(auth);
    BANGER_ASSIGN_OR_RETURN(HttpResponse resp, session.Perform(req, sink));
    std::string location = resp.Header("location");
    if (!IsRedirect(resp.status) || location.empty()) return resp;
    BANGER_ASSIGN_OR_RETURN(url, ResolveUrl(url, location));
  }
  return Error(Code::kUnavailable, "more than " + std::to_string(kMaxRedirects) + " redirects");
}

Status RegistryClient::Authenticate(HttpSession& session, const HttpResponse& resp,
                                    const std::string& scope) {
  std::string header = resp.Header("www-authenticate");
  if (header.empty())
    return Error(Code::kPermissionDenied, "registry " + Quote(registry_) +
                                              " answered 401 without a WWW-Authenticate challenge");
  BANGER_ASSIGN_OR_RETURN(Challenge ch, ParseChallenge(header));
  if (ch.scheme == "basic") {
    if (!options_.credentials)
      return Error(Code::kPermissionDenied,
                   "registry " + Quote(registry_) + " requires credentials and none are configured "
                   "for it (docker config 'auths')");
    std::lock_guard<std::mutex> lock(mu_);
    use_basic_ = true;
    return OkStatus();
  }
  if (ch.scheme != "bearer")
    return Error(Code::kPermissionDenied, "registry " + Quote(registry_) +
                                              " asks for unsupported auth scheme " + Quote(ch.scheme));
  std::string realm = ch.Param("realm");
  if (realm.empty()) return Error(Code::kCorruption, "bearer challenge without a realm");
  std::string url = realm + (realm.find('?') == std::string::npos ? "?" : "&");
  bool first = true;
  for (const auto& [key, value] : {std::pair<std::string, std::string>{"service", ch.Param("service")},
                                   {"scope", ch.Param("scope").empty() ? scope : ch.Param("scope")}}) {
    if (value.empty()) continue;
    url += (first ? "" : "&") + key + "=" + UrlEscape(value);
    first = false;
  }
  std::string auth;
  if (options_.credentials)
    auth = "Authorization: Basic " +
           Base64Encode(options_.credentials->username + ":" + options_.credentials->password);
  // The realm is the registry's delegate: it may get credentials, but only
  // over a channel CheckScheme accepts, and its redirects get none.
  BANGER_RETURN_IF_ERROR(CheckScheme(url));
  HttpRequest req;
  req.url = url;
  if (!auth.empty()) req.headers.push_back(auth);
  BANGER_ASSIGN_OR_RETURN(HttpResponse tr, session.Perform(req));
  if (tr.status != 200)
    return Error(Code::kPermissionDenied, "token server " + Quote(realm) + " answered " +
                                              std::to_string(tr.status) + ": " +
                                              RegistryErrorText(tr.body));
  std::string token;
  try {
    auto doc = nlohmann::json::parse(tr.body);
    token = doc.value("token", "");
    if (token.empty()) token = doc.value("access_token", "");
  } catch (const nlohmann::json::exception& e) {
    return Error(Code::kCorruption, "token server " + Quote(realm) + ": " + e.what());
  }
  if (token.empty()) return Error(Code::kCorruption, "token server " + Quote(realm) + " sent no token");
  std::lock_guard<std::mutex> lock(mu_);
  tokens_[scope] = token;
  return OkStatus();
}

Result<HttpResponse> RegistryClient::Send(const std::string& path, std::vector<std::string> headers,
                                          const std::string& repository, const BodySink& sink) {
  const std::string scope = "repository:" + repository + ":pull";
  Lease session(*this);
  for (int attempt = 0;; ++attempt) {
    BANGER_ASSIGN_OR_RETURN(HttpResponse resp,
                            FollowRedirects(*session, base_url_ + path, headers, AuthHeader(scope), sink));
    if (resp.status != 401 || attempt == 1) return resp;
    BANGER_RETURN_IF_ERROR(Authenticate(*session, resp, scope));
  }
}

Error RegistryClient::ResponseError(const HttpResponse& r, const std::string& what) const {
  std::string msg = what + " on " + Quote(registry_) + ": HTTP " + std::to_string(r.status);
  std::string detail = RegistryErrorText(r.body);
  if (!detail.empty()) msg += " (" + detail + ")";
  Code code = r.status == 404                      ? Code::kNotFound
              : r.status == 401 || r.status == 403 ? Code::kPermissionDenied
              : r.status >= 500                    ? Code::kUnavailable
                                                   : Code::kInvalidArgument;
  return Error(code, msg);
}

Result<FetchedManifest> RegistryClient::GetManifest(const std::string& repository,
                                                    const std::string& ref) {
  const std::string what = "manifest " + Quote(repository + (IsValidDigest(ref) ? "@" : ":") + ref);
  BANGER_ASSIGN_OR_RETURN(
      HttpResponse resp,
      Send("/v2/" + repository + "/manifests/" + ref, {media::AcceptHeader()}, repository, nullptr));
  if (resp.status != 200) return ResponseError(resp, "get " + what);
  FetchedManifest m;
  m.media_type = resp.Header("content-type");
  m.body = std::move(resp.body);
  m.digest = Sha256Digest(m.body);
  if (IsValidDigest(ref) && m.digest != ref)
    return Error(Code::kCorruption, what + ": content has digest " + Quote(m.digest));
  return m;
}

Status RegistryClient::FetchBlob(const std::string& repository, const Descriptor& blob,
                                 const BodySink& sink, const ByteProgress& progress) {
  const std::string what = "blob " + Quote(blob.digest);
  BANGER_RETURN_IF_ERROR(CheckDigest(blob.digest, what));
  Sha256 hash;
  uint64_t received = 0;
  BodySink counting = [&](const char* data, size_t len) -> Status {
    if (received + len > blob.size)
      return Error(Code::kCorruption, what + ": more than the " + std::to_string(blob.size) +
                                          " bytes its descriptor declares");
    hash.Update(data, len);
    received += len;
    if (progress) progress(received);
    return sink(data, len);
  };
  auto resp = Send("/v2/" + repository + "/blobs/" + blob.digest, {}, repository, counting);
  if (!resp.ok()) return std::move(resp).error().WithContext("fetch " + what);
  if (resp->status != 200) return ResponseError(*resp, "fetch " + what);
  if (received != blob.size)
    return Error(Code::kCorruption, "fetch " + what + ": got " + std::to_string(received) +
                                        " of " + std::to_string(blob.size) + " bytes (truncated)");
  std::string actual = hash.Finish();
  if (actual != blob.digest)
    return Error(Code::kCorruption, "fetch " + what + ": content has digest " + Quote(actual));
  return OkStatus();
}

}  // namespace banger::oci
