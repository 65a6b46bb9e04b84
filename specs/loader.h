// Reading spec files: TOML -> DesiredState, with every error at once.
//
// Parsing does no OS calls beyond reading the named files, listing named
// directories and checking that each VM's workspace repo is a directory. Each problem becomes a Diagnostic pointing at file:line:col and
// the key ("vm[1].memory"), so the user can fix all of them in one go.
#pragma once

#include <map>
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

// Where each key was written, by key path: "vm.web.image" -> lab.toml:14:1.
// Array elements have their own entries ("vm.web.file_sync[1]"). Key paths
// use the object's name when it is valid and its index in that file's array
// otherwise ("vm[2].image", counting from 0).
using KeyLocations = std::map<std::string, SourceLocation>;

struct ParseOutcome {
  DesiredState state;             // best effort even when errors is non-empty
  std::vector<Diagnostic> errors;   // sorted by file (in reading order), line, column
  std::vector<Diagnostic> warnings;
  KeyLocations locations;
  // The files (and directories) as diagnostics name them, in reading order.
  std::vector<std::string> shown_files;
  bool ok() const { return errors.empty(); }
};

// Reads every file in `paths`; a directory contributes its *.toml files in
// name order, and a file named twice is read once. Diagnostics show each
// file as it was named (a directory's files as "dir/name.toml"); relative
// host paths inside a file resolve against its absolute directory. Checks syntax, types, keys, sizes, names, duplicates across
// all files, guest paths, modes, and references between the files.
// References that the files do not satisfy are left to CheckReferences
// (they may name objects that already exist in the store).
ParseOutcome ParseSpecFiles(const std::vector<std::string>& paths);

// Parses one TOML document held in memory (used for tests and stdin);
// `display_name` is what diagnostics show as the file and relative host
// paths resolve against `base_dir` as given.
ParseOutcome ParseSpecText(const std::string& text, const std::string& display_name,
                           const std::string& base_dir);

// Names of objects that exist outside the spec files (in the store).
struct KnownObjects {
  std::set<std::string> images;
  std::set<std::string> kernels;
};

// Appends a diagnostic for each VM reference to an image, kernel or
// file_sync entry that exists neither in `state` nor in `known` (file_sync
// entries exist only in spec files), with a suggestion when a name is close.
// With `locations` (from ParseOutcome) each diagnostic points at the
// referencing key; without, at the VM's table header.
void CheckReferences(const DesiredState& state, const KnownObjects& known,
                     std::vector<Diagnostic>* errors,
                     const KeyLocations* locations = nullptr);

// CheckReferences on a parse outcome: its references are checked against
// its own state, locations and `known`, and the new errors are merged into
// outcome->errors in file and position order.
void CheckReferences(ParseOutcome* outcome, const KnownObjects& known);

// The keys each table of the format accepts, by table: "" (the top level),
// "settings", "kernel", "kernel.path", "image", "image.debootstrap",
// "file_sync", "vm", "snapshot". `vm.labels` takes any valid label key and is not listed.
// The JSON Schema in schemas/ is tested against this list.
const std::map<std::string, std::vector<std::string>>& KnownKeys();

// Size strings: "512MiB", "2G", "2GiB", "1024M", "10k", plain bytes "4096".
// K/M/G/T and KiB/MiB/GiB/TiB are both binary (1024-based).
Result<uint64_t> ParseSize(std::string_view text);
// 2147483648 -> "2G", 536870912 -> "512M", 1000 -> "1000"
std::string FormatSize(uint64_t bytes);

}  // namespace banger::specs
