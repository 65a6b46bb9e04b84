// The adapter between toml++ and the loader: the only code that sees toml++
// types. It parses a document (turning toml++'s exceptions into a
// diagnostic) and reads typed keys out of a table, reporting each problem
// with the key path and the position in the file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "specs/loader.h"

namespace banger::specs {

// Collects the diagnostics and key locations of one file.
class DiagnosticSink {
 public:
  DiagnosticSink(std::string file, ParseOutcome* out) : file_(std::move(file)), out_(out) {}

  const std::string& file() const { return file_; }
  SourceLocation At(const toml::source_position& pos) const;
  void Error(const toml::source_position& pos, std::string key, std::string message);
  void Record(std::string key, const toml::source_position& pos);

 private:
  std::string file_;
  ParseOutcome* out_;
};

// Parses `text`; a syntax error is reported (with toml++'s position and
// description) and gives nullopt.
std::optional<toml::table> ParseToml(const std::string& text, DiagnosticSink* sink);

// "a string", "an integer", ... for type mismatch messages.
std::string TypeName(const toml::node& node);

// Typed reads from one table whose key path is `path` ("vm.web").
// Every read of a present key records its location; a read that fails
// reports why and yields nothing, so decoding goes on and finds more.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string path, DiagnosticSink* sink)
      : table_(table), path_(std::move(path)), sink_(sink) {}

  const std::string& path() const { return path_; }
  // Renames the table once its name is known to be valid.
  void SetPath(std::string path) { path_ = std::move(path); }
  // The path of `key` in this table; keys that are not bare TOML keys are
  // quoted ("vm.web.labels.\"has space\"").
  std::string KeyPath(std::string_view key) const;
  bool Has(std::string_view key) const;
  const toml::node* Find(std::string_view key) const;
  SourceLocation Header() const { return sink_->At(table_.source().begin); }
  DiagnosticSink* sink() const { return sink_; }

  // Reports each key not in `known`, suggesting the closest known key.
  void RejectUnknownKeys(const std::vector<std::string>& known);

  std::optional<std::string> String(std::string_view key, bool required = false);
  std::optional<int64_t> Integer(std::string_view key);
  std::optional<bool> Bool(std::string_view key);
  // A size string or a number of bytes, at least `minimum`.
  std::optional<uint64_t> Size(std::string_view key, uint64_t minimum);
  const toml::table* Table(std::string_view key, bool required = false);
  // The string elements of an array, with their indices; elements are
  // recorded as "key[i]" and each one that is not a string is reported.
  struct Element {
    size_t index;
    std::string value;
  };
  std::optional<std::vector<Element>> StringArray(std::string_view key);

  // Reports `status` (when it failed) at the value of `key`; returns ok().
  bool Check(std::string_view key, const Status& status);
  // Reports `message` at the value of `key`.
  void ValueError(std::string_view key, std::string message);
  // Reports `message` at element `index` of the array under `key`.
  void ElementError(std::string_view key, size_t index, std::string message);
  // Reports `message` against the table itself, at its header.
  void TableError(std::string message);
  void Missing(std::string_view key);

 private:
  void WrongType(std::string_view key, const toml::node& node, std::string_view expected);

  const toml::table& table_;
  std::string path_;
  DiagnosticSink* sink_;
};

}  // namespace banger::specs
