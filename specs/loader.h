// Reading spec files: TOML -> DesiredState, with every error at once.
//
// Parsing does no OS calls beyond reading the named files and listing named
// directories. Each problem becomes a Diagnostic pointing at file:line:col and
// the key ("vm[1].memory"), so the user can fix all of them in one go.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "reconciler/base/error.h"
#include "specs/desired.h"

namespace banger::specs {

struct Diagnostic {
  SourceLocation where;
  std::string key;      // dotted key path, e.g. "vm.web.memory" or "vm[2].name"
  std::string message;  // what is wrong and, when possible, what would be right
  // "file:line:col: key: message"
  std::string ToString() const;
};

struct ParseOutcome {
  DesiredState state;             // best effort even when errors is non-empty
  std::vector<Diagnostic> errors;
  std::vector<Diagnostic> warnings;
  bool ok() const { return errors.empty(); }
};

// Reads every file in `paths`; a directory contributes its *.toml files in
// name order. Checks syntax, types, keys, sizes, names, duplicates across
// all files, guest paths, modes, and references between the files.
// References that the files do not satisfy are left to CheckReferences
// (they may name objects that already exist in the store).
ParseOutcome ParseSpecFiles(const std::vector<std::string>& paths);

// Parses one TOML document held in memory (used for tests and stdin);
// `display_name` is what diagnostics show as the file.
ParseOutcome ParseSpecText(const std::string& text, const std::string& display_name,
                           const std::string& base_dir);

// Names of objects that exist outside the spec files (in the store).
struct KnownObjects {
  std::set<std::string> images;
  std::set<std::string> kernels;
};

// Appends a diagnostic for each VM reference to an image, kernel or
// file_sync entry that exists neither in `state` nor in `known`.
void CheckReferences(const DesiredState& state, const KnownObjects& known,
                     std::vector<Diagnostic>* errors);

// Size strings: "512MiB", "2G", "2GiB", "1024M", "10k", plain bytes "4096".
// K/M/G/T and KiB/MiB/GiB/TiB are both binary (1024-based).
Result<uint64_t> ParseSize(std::string_view text);
// 2147483648 -> "2G", 536870912 -> "512M", 1000 -> "1000"
std::string FormatSize(uint64_t bytes);

}  // namespace banger::specs
