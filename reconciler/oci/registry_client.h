// A client for the OCI distribution (Docker registry HTTP API v2) protocol,
// read side: manifests and blobs, with the anonymous bearer-token dance,
// Basic auth, and redirects followed by hand.
//
// Security rules enforced here:
// - plain http only to loopback registries (127.0.0.0/8, ::1, localhost)
//   or when `insecure` is set, on every hop including redirects and token
//   realms;
// - credentials and tokens go only to the registry's own origin, never to
//   a redirect target on another host (blob storage, CDNs). A Bearer
//   challenge's realm receives the credentials, as the protocol requires,
//   only over https (or loopback/insecure);
// - every blob is counted and hashed while it streams: a body longer than
//   its descriptor aborts at once, a short or mismatching one fails.
//
// Thread-safe: each call borrows a libcurl session from a pool, so layers
// can be fetched in parallel through one client.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "reconciler/base/error.h"
#include "reconciler/oci/credentials.h"
#include "reconciler/oci/http_session.h"
#include "reconciler/oci/manifest.h"

namespace banger::oci {

struct RegistryOptions {
  bool insecure = false;                   // allow http to non-loopback hosts
  // HOST[:PORT] to send this registry's API requests to instead (a mirror;
  // see ParseRegistryMirrors). Empty: the registry itself.
  std::string mirror;
  std::optional<Credentials> credentials;  // for this registry only
  size_t max_manifest_bytes = 4u << 20;
  HttpLimits http;
};

struct FetchedManifest {
  std::string media_type;  // Content-Type as sent
  std::string body;
  std::string digest;      // sha256 of body
};

// Called with the bytes of the blob received so far.
using ByteProgress = std::function<void(uint64_t received)>;

class RegistryClient {
 public:
  // `registry` as in a Reference ("docker.io", "127.0.0.1:5000").
  RegistryClient(std::string registry, RegistryOptions options);
  ~RegistryClient();

  // The manifest or index for a tag or digest. For a digest the body is
  // verified against it. Bodies over max_manifest_bytes are refused.
  Result<FetchedManifest> GetManifest(const std::string& repository, const std::string& ref);

  // Streams a blob to `sink`, verifying size and digest on the way (see
  // above). The sink sees bytes before the final check, so it must write
  // somewhere that is discarded unless this returns ok.
  Status FetchBlob(const std::string& repository, const Descriptor& blob, const BodySink& sink,
                   const ByteProgress& progress = nullptr);

  // "https://registry-1.docker.io" or "http://127.0.0.1:5000".
  const std::string& base_url() const { return base_url_; }

 private:
  class Lease;
  std::unique_ptr<HttpSession> Borrow();
  void Return(std::unique_ptr<HttpSession> session);

  Result<HttpResponse> Send(const std::string& path, std::vector<std::string> headers,
                            const std::string& repository, const BodySink& sink);
  Result<HttpResponse> FollowRedirects(HttpSession& session, std::string url,
                                       const std::vector<std::string>& headers,
                                       const std::string& auth, const BodySink& sink);
  Status Authenticate(HttpSession& session, const HttpResponse& challenge_response,
                      const std::string& scope);
  Status CheckScheme(const std::string& url) const;
  std::string AuthHeader(const std::string& scope);
  Error ResponseError(const HttpResponse& r, const std::string& what) const;

  std::string registry_;
  std::string base_url_;
  RegistryOptions options_;

  std::mutex mu_;
  std::vector<std::unique_ptr<HttpSession>> idle_;
  std::map<std::string, std::string> tokens_;  // scope -> bearer token
  bool use_basic_ = false;
};

}  // namespace banger::oci
