// Image references and content digests.
//
// References: "debian", "docker.io/library/debian:bookworm",
// "127.0.0.1:5000/x/y@sha256:...", "host:port/name:tag".
//
// Parsing follows the Docker normalisation rules: the first component is a
// registry only when it contains '.' or ':' or is "localhost"; otherwise the
// registry is docker.io and a single-component name gets "library/". With
// neither tag nor digest the tag is "latest".
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <map>
#include <string>
#include <string_view>

#include "reconciler/base/error.h"

namespace banger::oci {

// Only sha256 is accepted: it is what registries and the OCI spec require
// implementations to support, and anything else is refused rather than
// trusted unverified.
bool IsValidDigest(std::string_view digest);
// kInvalidArgument naming `what` when the digest is malformed.
Status CheckDigest(std::string_view digest, std::string_view what);

// The 64 hex digits of a valid digest.
std::string_view DigestHex(std::string_view digest);

// Streaming SHA-256.
class Sha256 {
 public:
  Sha256();
  void Update(const void* data, size_t len);
  // "sha256:<hex>"; the hasher is reset afterwards.
  std::string Finish();

 private:
  struct CtxFree {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  std::unique_ptr<EVP_MD_CTX, CtxFree> ctx_;
};

std::string Sha256Digest(std::string_view data);

struct Reference {
  std::string registry;    // "docker.io", "127.0.0.1:5000", "ghcr.io"
  std::string repository;  // "library/debian"
  std::string tag;         // may be empty when a digest is given
  std::string digest;      // "sha256:<64 hex>" or empty

  // The tag or digest to ask the registry for (the digest wins).
  const std::string& ManifestRef() const { return digest.empty() ? tag : digest; }
  // Canonical text: "docker.io/library/debian:bookworm@sha256:...".
  std::string ToString() const;
  bool operator==(const Reference&) const = default;
};

// Fails with kInvalidArgument naming the text and what is wrong with it.
Result<Reference> ParseReference(std::string_view text);

// A banger image name for the reference: "debian-bookworm", valid for
// ^[a-z0-9][a-z0-9-]{0,31}$ (the last repository component and the tag, or
// the first 12 hex digits of the digest).
std::string DefaultImageName(const Reference& ref);

// Whether "host[:port]" names this machine (127.0.0.0/8, ::1, localhost):
// the only registries spoken to over plain http unless insecure is set.
bool IsLoopbackRegistry(std::string_view registry);

// Where the registry API lives: docker.io is served by registry-1.docker.io.
std::string RegistryApiHost(std::string_view registry);

// Registry mirrors, as $BANGER_REGISTRY_MIRRORS gives them:
// "docker.io=mirror.example:5000,quay.io=127.0.0.1:5001". A mirror serves
// the same repositories and digests as the registry it stands for; the
// image's reference, identity and digests stay the registry's own.
using RegistryMirrors = std::map<std::string, std::string>;
Result<RegistryMirrors> ParseRegistryMirrors(std::string_view text);
// The mirrors of the process environment (an unparsable value is an error
// naming the variable).
Result<RegistryMirrors> RegistryMirrorsFromEnvironment();

}  // namespace banger::oci
