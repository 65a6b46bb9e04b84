// The TOML spec loader on arbitrary text: every kind ([settings], kernel,
// image, file_sync, vm), the references between them and the cross-file
// checks. Properties: no crash or sanitizer report; every diagnostic names a
// position in the file; a spec that loads cleanly survives the canonical
// JSON form the store and saved plans keep (ToJson -> text -> FromJson ->
// ToJson is the identity).
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "specs/loader.h"
#include "specs/spec_json.h"
#include "tests/fuzz/fuzz_support.h"

using namespace banger;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(fuzz::AsView(data, size));
  specs::ParseOutcome outcome = specs::ParseSpecText(text, "fuzz.toml", "/srv/specs");
  // Names a store might already hold, so references both resolve and miss.
  specs::KnownObjects known{{"debian", "alpine"}, {"cloud", "lts"}};
  specs::CheckReferences(&outcome, known);

  for (const auto& d : outcome.errors) {
    if (d.message.empty()) fuzz::Fail("diagnostic without a message: " + d.ToString());
    if (d.where.file != "fuzz.toml" && !d.where.file.empty())
      fuzz::Fail("diagnostic names another file: " + d.ToString());
  }
  if (!outcome.ok()) return 0;

  nlohmann::json first = specs::ToJson(outcome.state);
  nlohmann::json reread = nlohmann::json::parse(first.dump(), nullptr, false);
  if (reread.is_discarded()) fuzz::Fail("canonical JSON does not parse: " + first.dump());
  Result<specs::DesiredState> back = specs::DesiredFromJson(reread);
  if (!back.ok()) fuzz::Fail("canonical JSON refused: " + back.error().message());
  if (specs::ToJson(*back) != first)
    fuzz::Fail("canonical JSON changed on a round trip: " + first.dump());
  return 0;
}
