#include "specs/toml_reader.h"

#include <algorithm>
#include <cctype>

#include "specs/did_you_mean.h"

namespace banger::specs {

SourceLocation DiagnosticSink::At(const toml::source_position& pos) const {
  return SourceLocation{file_, static_cast<int>(pos.line), static_cast<int>(pos.column)};
}

void DiagnosticSink::Error(const toml::source_position& pos, std::string key,
                           std::string message) {
  out_->errors.push_back(Diagnostic{At(pos), std::move(key), std::move(message)});
}

void DiagnosticSink::Record(std::string key, const toml::source_position& pos) {
  out_->locations.emplace(std::move(key), At(pos));
}

std::optional<toml::table> ParseToml(const std::string& text, DiagnosticSink* sink) {
  try {
    return toml::parse(std::string_view(text), std::string_view(sink->file()));
  } catch (const toml::parse_error& e) {
    sink->Error(e.source().begin, "", "TOML syntax error: " + std::string(e.description()));
    return std::nullopt;
  }
}

std::string TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

std::string TableReader::KeyPath(std::string_view key) const {
  bool bare = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
  std::string shown = bare ? std::string(key) : "\"" + std::string(key) + "\"";
  return path_.empty() ? shown : path_ + "." + shown;
}

bool TableReader::Has(std::string_view key) const { return Find(key) != nullptr; }

const toml::node* TableReader::Find(std::string_view key) const {
  auto it = table_.find(key);
  if (it == table_.end()) return nullptr;
  sink_->Record(KeyPath(key), it->first.source().begin);
  return &it->second;
}

void TableReader::RejectUnknownKeys(const std::vector<std::string>& known) {
  for (auto&& [key, value] : table_) {
    std::string_view k = key.str();
    if (std::find(known.begin(), known.end(), k) != known.end()) continue;
    sink_->Error(key.source().begin, KeyPath(k),
                 "unknown key " + Quote(k) + DidYouMean(k, known));
  }
}

void TableReader::WrongType(std::string_view key, const toml::node& node,
                            std::string_view expected) {
  sink_->Error(node.source().begin, KeyPath(key),
               "expected " + std::string(expected) + ", got " + TypeName(node));
}

std::optional<std::string> TableReader::String(std::string_view key, bool required) {
  const toml::node* node = Find(key);
  if (!node) {
    if (required) Missing(key);
    return std::nullopt;
  }
  if (auto s = node->value<std::string>(); s && node->is_string()) {
    if (required && s->empty()) {
      ValueError(key, "must not be empty");
      return std::nullopt;
    }
    return *s;
  }
  WrongType(key, *node, "a string");
  return std::nullopt;
}

std::optional<int64_t> TableReader::Integer(std::string_view key) {
  const toml::node* node = Find(key);
  if (!node) return std::nullopt;
  if (node->is_integer()) return node->as_integer()->get();
  WrongType(key, *node, "an integer");
  return std::nullopt;
}

std::optional<bool> TableReader::Bool(std::string_view key) {
  const toml::node* node = Find(key);
  if (!node) return std::nullopt;
  if (node->is_boolean()) return node->as_boolean()->get();
  WrongType(key, *node, "a boolean (true or false)");
  return std::nullopt;
}

std::optional<uint64_t> TableReader::Size(std::string_view key, uint64_t minimum) {
  const toml::node* node = Find(key);
  if (!node) return std::nullopt;
  uint64_t bytes = 0;
  if (node->is_integer()) {
    int64_t n = node->as_integer()->get();
    if (n < 0) {
      ValueError(key, "invalid size " + std::to_string(n) + ": sizes cannot be negative");
      return std::nullopt;
    }
    bytes = static_cast<uint64_t>(n);
  } else if (node->is_string()) {
    Result<uint64_t> parsed = ParseSize(node->as_string()->get());
    if (!Check(key, parsed.ok() ? OkStatus() : Status(parsed.error()))) return std::nullopt;
    bytes = *parsed;
  } else {
    WrongType(key, *node, "a size (a string such as \"2G\" or a number of bytes)");
    return std::nullopt;
  }
  if (bytes < minimum) {
    ValueError(key, "size " + FormatSize(bytes) + " is below the minimum of " +
                        FormatSize(minimum));
    return std::nullopt;
  }
  return bytes;
}

const toml::table* TableReader::Table(std::string_view key, bool required) {
  const toml::node* node = Find(key);
  if (!node) {
    if (required) Missing(key);
    return nullptr;
  }
  if (node->is_table()) return node->as_table();
  WrongType(key, *node, "a table");
  return nullptr;
}

std::optional<std::vector<TableReader::Element>> TableReader::StringArray(
    std::string_view key) {
  const toml::node* node = Find(key);
  if (!node) return std::nullopt;
  const toml::array* array = node->as_array();
  if (!array) {
    WrongType(key, *node, "an array of strings");
    return std::nullopt;
  }
  std::vector<Element> out;
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& el = (*array)[i];
    std::string el_path = KeyPath(key) + "[" + std::to_string(i) + "]";
    sink_->Record(el_path, el.source().begin);
    if (el.is_string())
      out.push_back({i, el.as_string()->get()});
    else
      sink_->Error(el.source().begin, el_path, "expected a string, got " + TypeName(el));
  }
  return out;
}

bool TableReader::Check(std::string_view key, const Status& status) {
  if (status.ok()) return true;
  ValueError(key, status.error().message());
  return false;
}

void TableReader::ValueError(std::string_view key, std::string message) {
  const toml::node* node = Find(key);
  auto pos = node ? node->source().begin : table_.source().begin;
  sink_->Error(pos, KeyPath(key), std::move(message));
}

void TableReader::ElementError(std::string_view key, size_t index, std::string message) {
  const toml::node* node = Find(key);
  const toml::array* array = node ? node->as_array() : nullptr;
  auto pos = array && index < array->size() ? (*array)[index].source().begin
                                            : table_.source().begin;
  sink_->Error(pos, KeyPath(key) + "[" + std::to_string(index) + "]", std::move(message));
}

void TableReader::TableError(std::string message) {
  sink_->Error(table_.source().begin, path_, std::move(message));
}

void TableReader::Missing(std::string_view key) {
  TableError("missing required key " + Quote(key));
}

}  // namespace banger::specs
