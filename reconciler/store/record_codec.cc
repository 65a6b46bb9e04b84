#include "reconciler/store/record_codec.h"

namespace banger::store {

std::string RecordName(std::string_view kind, std::string_view name) {
  return std::string(kind) + " " + Quote(name);
}

Result<std::string> EncodeJson(const nlohmann::json& j, std::string_view what) {
  try {
    return j.dump();
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument("encode " + std::string(what) + ": " + e.what());
  }
}

Result<nlohmann::json> ParseStoredJson(const std::string& text, std::string_view what) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return StoredRecordError(what, "not valid JSON");
  return j;
}

Error StoredRecordError(std::string_view what, std::string_view problem) {
  return Error(Code::kCorruption,
               "stored " + std::string(what) + " does not decode: " + std::string(problem));
}

std::string_view OriginText(model::Origin o) { return model::OriginName(o); }

Result<model::Origin> OriginFromText(const std::string& text, std::string_view what) {
  for (model::Origin o : {model::Origin::kSpec, model::Origin::kCli}) {
    if (text == model::OriginName(o)) return o;
  }
  return StoredRecordError(what, "unknown origin " + Quote(text));
}

std::string_view PowerText(model::PowerIntent p) { return model::PowerIntentName(p); }

Result<model::PowerIntent> PowerFromText(const std::string& text, std::string_view what) {
  for (model::PowerIntent p : {model::PowerIntent::kRunning, model::PowerIntent::kStopped}) {
    if (text == model::PowerIntentName(p)) return p;
  }
  return StoredRecordError(what, "unknown power intent " + Quote(text));
}

Result<std::map<std::string, std::string>> DecodeSynced(const std::string& text,
                                                        std::string_view what) {
  BANGER_ASSIGN_OR_RETURN(nlohmann::json j, ParseStoredJson(text, what));
  if (!j.is_object()) return StoredRecordError(what, "synced digests are not a JSON object");
  std::map<std::string, std::string> out;
  for (const auto& [entry, digest] : j.items()) {
    if (!digest.is_string())
      return StoredRecordError(what, "synced digest of " + Quote(entry) + " is not a string");
    out[entry] = digest.get<std::string>();
  }
  return out;
}

}  // namespace banger::store
