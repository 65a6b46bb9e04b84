// Decoding one parsed TOML document into desired-state objects. Each decoder
// reports every problem it finds through the sink and returns what it could
// read; objects without a valid name are dropped, since nothing can refer to
// them. Checks that span files (duplicates, references) happen after all
// files are decoded.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "specs/desired.h"
#include "specs/toml_reader.h"

namespace banger::specs {

struct DecodedDocument {
  std::optional<Settings> settings;
  std::vector<KernelSpec> kernels;
  std::vector<ImageSpec> images;
  std::vector<FileSyncSpec> file_syncs;
  std::vector<VmSpec> vms;
  std::vector<SnapshotSpec> snapshots;
};

// Decodes the top level of a document; relative host paths resolve against
// `base_dir`.
DecodedDocument DecodeDocument(const toml::table& root, const std::string& base_dir,
                               DiagnosticSink* sink);

Settings DecodeSettings(TableReader& t, const std::string& base_dir);
std::optional<KernelSpec> DecodeKernel(TableReader& t, const std::string& base_dir);
std::optional<ImageSpec> DecodeImage(TableReader& t, const std::string& base_dir);
std::optional<FileSyncSpec> DecodeFileSync(TableReader& t, const std::string& base_dir);
std::optional<VmSpec> DecodeVm(TableReader& t, const std::string& base_dir);
std::optional<SnapshotSpec> DecodeSnapshot(TableReader& t);

// Reads "name", checks it, and renames the reader "kind.NAME" when valid
// (it stays "kind[i]" otherwise). Returns the valid name or nullopt.
std::optional<std::string> DecodeName(TableReader& t, std::string_view kind);

}  // namespace banger::specs
