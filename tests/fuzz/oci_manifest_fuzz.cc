// The OCI/Docker decoders on arbitrary registry bodies: manifest
// classification under each Content-Type, image index, manifest, image
// config and platform selection. Properties: no crash or sanitizer report;
// every descriptor accepted carries a well-formed sha256 digest; platform
// selection returns an entry of the index.
#include <cstdint>
#include <string>
#include <string_view>

#include "reconciler/oci/manifest.h"
#include "tests/fuzz/fuzz_support.h"

using namespace banger;
using namespace banger::oci;

namespace {

void ExpectSha256Digest(const Descriptor& d) {
  const std::string& g = d.digest;
  bool ok = g.size() == 71 && g.compare(0, 7, "sha256:") == 0 &&
            g.find_first_not_of("0123456789abcdef", 7) == std::string::npos;
  if (!ok) fuzz::Fail("descriptor accepted with digest '" + g + "'");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body = fuzz::AsView(data, size);
  for (std::string_view type : {std::string_view(), media::kOciIndex, media::kOciManifest,
                                media::kDockerList, media::kDockerManifest,
                                std::string_view("application/json")})
    (void)ClassifyManifest(type, body);

  if (Result<Index> index = ParseIndex(body); index.ok()) {
    for (const auto& m : index->manifests) ExpectSha256Digest(m);
    for (const char* want : {"linux/amd64", "linux/arm64", "linux/arm64/v8", "linux/arm/v7"}) {
      Result<Platform> platform = Platform::Parse(want);
      if (!platform.ok()) fuzz::Fail("platform '" + std::string(want) + "' refused");
      Result<Descriptor> chosen = SelectPlatform(*index, *platform);
      if (!chosen.ok()) continue;
      bool listed = false;
      for (const auto& m : index->manifests) listed = listed || m.digest == chosen->digest;
      if (!listed) fuzz::Fail("selected a manifest the index does not list");
    }
  }
  if (Result<Manifest> manifest = ParseManifest(body); manifest.ok()) {
    ExpectSha256Digest(manifest->config);
    for (const auto& l : manifest->layers) ExpectSha256Digest(l);
  }
  (void)ParseImageConfig(body);
  // Platform strings come from the user's spec ("platform = ...").
  if (size < 256) (void)Platform::Parse(body);
  return 0;
}
