// The root helper's request decoder on arbitrary frames (what any local
// process may send to the socket). Properties: no crash or sanitizer
// report; a frame the decoder accepts passes ValidateRequest, and encoding
// it and decoding again gives the same frame back, so what the helper acts
// on is exactly what a well-behaved client could have sent.
#include <cstdint>
#include <string>

#include "helper/protocol/codec.h"
#include "tests/fuzz/fuzz_support.h"

using namespace banger;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The server refuses larger frames before decoding (ReceiveFrame).
  if (size > helper::kMaxFrameSize) return 0;
  Result<helper::Request> request = helper::DecodeRequest(fuzz::AsView(data, size));
  if (!request.ok()) {
    if (request.error().message().empty()) fuzz::Fail("refusal without a message");
    return 0;
  }
  Status valid = helper::ValidateRequest(*request);
  if (!valid.ok()) fuzz::Fail("decoded request fails validation: " + valid.error().message());
  std::string encoded = helper::EncodeRequest(*request);
  Result<helper::Request> again = helper::DecodeRequest(encoded);
  if (!again.ok()) fuzz::Fail("re-encoded request refused: " + again.error().message());
  if (helper::EncodeRequest(*again) != encoded)
    fuzz::Fail("request changed on a round trip: " + encoded);
  return 0;
}
