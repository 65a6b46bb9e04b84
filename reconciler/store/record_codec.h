// How record fields are stored in state.db columns: specs as canonical JSON
// text, enums as their names, maps as JSON objects. Shared by the writer
// (StoreTxn) and the reader (ReadSnapshot); nlohmann exceptions stop here.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "reconciler/base/error.h"
#include "reconciler/model/records.h"

namespace banger::store {

// Names one stored record in messages: "vm 'web'".
std::string RecordName(std::string_view kind, std::string_view name);

// Compact JSON text with sorted keys, so equal values give equal text (which
// is how an unchanged Put is recognised). Fails with kInvalidArgument when a
// string is not valid UTF-8.
Result<std::string> EncodeJson(const nlohmann::json& j, std::string_view what);

// Parses JSON text read from the db; kCorruption naming `what` on failure.
Result<nlohmann::json> ParseStoredJson(const std::string& text, std::string_view what);

// Decodes the stored spec of record `name` of `kind` with `decode`; checks
// that the spec carries the row's name. kCorruption naming kind and name.
template <typename Spec>
Result<Spec> DecodeStoredSpec(const std::string& text, std::string_view kind,
                              const std::string& name,
                              Result<Spec> (*decode)(const nlohmann::json&));

std::string_view OriginText(model::Origin o);
Result<model::Origin> OriginFromText(const std::string& text, std::string_view what);
std::string_view PowerText(model::PowerIntent p);
Result<model::PowerIntent> PowerFromText(const std::string& text, std::string_view what);

Result<std::map<std::string, std::string>> DecodeSynced(const std::string& text,
                                                        std::string_view what);

// Shared message for a stored record that does not decode.
Error StoredRecordError(std::string_view what, std::string_view problem);

template <typename Spec>
Result<Spec> DecodeStoredSpec(const std::string& text, std::string_view kind,
                              const std::string& name,
                              Result<Spec> (*decode)(const nlohmann::json&)) {
  const std::string what = RecordName(kind, name);
  BANGER_ASSIGN_OR_RETURN(nlohmann::json j, ParseStoredJson(text, what));
  Result<Spec> spec = decode(j);
  if (!spec.ok()) {
    // The decoder names the object itself once it has read the name; drop
    // that prefix rather than saying it twice.
    std::string problem = spec.error().message();
    const std::string prefix = what + ": ";
    if (problem.rfind(prefix, 0) == 0) problem.erase(0, prefix.size());
    return StoredRecordError(what, "applied spec: " + problem);
  }
  if (spec->name != name)
    return StoredRecordError(what, "applied spec is named " + Quote(spec->name));
  return spec;
}

}  // namespace banger::store
