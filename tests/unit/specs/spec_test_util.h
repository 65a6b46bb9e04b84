// Helpers shared by the specs tests: parse a snippet and look at the
// diagnostics as the user would see them.
#pragma once

#include <string>
#include <vector>

#include "specs/loader.h"

namespace banger::specs::testing {

// A snippet that declares everything the VM "web" refers to, so tests can
// append one broken table and see only its diagnostics.
inline const char* kBase = R"(
[[kernel]]
name = "k"
deb = "linux-image-cloud-amd64"

[[image]]
name = "base"
dir = "rootfs"
)";

inline std::vector<std::string> Lines(const std::vector<Diagnostic>& diags) {
  std::vector<std::string> out;
  for (const Diagnostic& d : diags) out.push_back(d.ToString());
  return out;
}

// Parses `text` as "t.toml" in /specs and checks references against an
// empty store; returns the errors as text.
inline std::vector<std::string> Errors(const std::string& text) {
  ParseOutcome out = ParseSpecText(text, "t.toml", "/specs");
  CheckReferences(&out, KnownObjects{});
  return Lines(out.errors);
}

}  // namespace banger::specs::testing
