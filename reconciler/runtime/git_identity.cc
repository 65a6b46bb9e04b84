#include "reconciler/runtime/git_identity.h"

#include <cctype>
#include <map>
#include <optional>
#include <vector>

namespace banger::runtime {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsKeyChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; }

// One variable assignment, which may run over several lines (a value
// continued with a trailing backslash) and may follow a section header on
// its first line (`[user] name = x` is valid git config).
struct Assignment {
  size_t first = 0, last = 0;  // line indexes, inclusive
  std::string prefix;          // the header before it on its first line, if any
  std::string key;             // lower case
};

// The lines of the file, each with its '\n' (the last may lack one).
std::vector<std::string> SplitLines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
    lines.emplace_back(text.substr(start, end - start));
    start = end;
  }
  return lines;
}

std::string_view Body(const std::string& line) {
  std::string_view s(line);
  if (!s.empty() && s.back() == '\n') s.remove_suffix(1);
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  return s;
}

// Whether the value that starts at `pos` of `line` goes on to the next
// line: a backslash at the very end, outside a comment.
bool ValueContinues(std::string_view line, size_t pos, bool& quoted) {
  for (size_t i = pos; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '\\') {
      if (i + 1 == line.size()) return true;
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if ((c == '#' || c == ';') && !quoted) {
      return false;
    }
  }
  return false;
}

// Where the header's closing bracket is (npos if none), and whether it
// names the plain [user] section (not [user "x"] nor [user.x]).
size_t ParseHeader(std::string_view line, size_t open, bool& plain_user) {
  bool quoted = false;
  for (size_t i = open + 1; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '\\') {
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ']' && !quoted) {
      plain_user = Lower(line.substr(open + 1, i - open - 1)) == "user";
      return i;
    }
  }
  plain_user = false;
  return std::string_view::npos;
}

struct Scan {
  std::vector<Assignment> user_keys;  // assignments inside plain [user] sections
  std::optional<size_t> user_end;     // last line of the last plain [user] section
};

Scan ScanConfig(const std::vector<std::string>& lines) {
  Scan scan;
  bool in_user = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = Body(lines[i]);
    size_t pos = 0;
    while (pos < line.size() && std::isspace(static_cast<unsigned char>(line[pos]))) ++pos;
    std::string prefix;
    if (pos < line.size() && line[pos] == '[') {
      size_t close = ParseHeader(line, pos, in_user);
      if (in_user) scan.user_end = i;
      if (close == std::string_view::npos) continue;
      pos = close + 1;
      prefix = std::string(line.substr(0, pos));
      while (pos < line.size() && std::isspace(static_cast<unsigned char>(line[pos]))) ++pos;
    }
    if (pos >= line.size() || !IsKeyChar(line[pos])) continue;  // blank, comment
    size_t key_end = pos;
    while (key_end < line.size() && IsKeyChar(line[key_end])) ++key_end;
    Assignment a{i, i, prefix, Lower(line.substr(pos, key_end - pos))};
    bool quoted = false;
    size_t from = key_end;
    while (a.last + 1 < lines.size() && ValueContinues(Body(lines[a.last]), from, quoted)) {
      ++a.last;
      from = 0;
    }
    if (in_user) {
      scan.user_keys.push_back(a);
      scan.user_end = a.last;
    }
    i = a.last;
  }
  return scan;
}

}  // namespace

std::string EncodeGitConfigValue(std::string_view value) {
  bool quote = !value.empty() && (value.front() == ' ' || value.back() == ' ');
  std::string body;
  for (char c : value) {
    switch (c) {
      case '\n': body += "\\n"; break;
      case '\t': body += "\\t"; break;
      case '"': body += "\\\""; break;
      case '\\': body += "\\\\"; break;
      case '#':
      case ';':
        quote = true;
        body += c;
        break;
      default: body += c;
    }
  }
  return quote ? "\"" + body + "\"" : body;
}

std::string SetGitIdentity(std::string_view gitconfig, const GitIdentity& identity) {
  std::vector<std::string> lines = SplitLines(gitconfig);
  const Scan scan = ScanConfig(lines);
  std::vector<std::optional<std::string>> replaced(lines.size());
  std::vector<bool> dropped(lines.size(), false);
  std::string added;  // assignments for keys the file does not have yet

  for (auto [key, value] : {std::pair<std::string, const std::string&>{"name", identity.name},
                            {"email", identity.email}}) {
    if (value.empty()) continue;
    const std::string assignment = key + " = " + EncodeGitConfigValue(value) + "\n";
    std::vector<const Assignment*> found;
    for (const auto& a : scan.user_keys) {
      if (a.key == key) found.push_back(&a);
    }
    if (found.empty()) {
      added += "\t" + assignment;
      continue;
    }
    for (size_t n = 0; n < found.size(); ++n) {
      const Assignment& a = *found[n];
      for (size_t l = a.first + 1; l <= a.last; ++l) dropped[l] = true;
      const bool last = n + 1 == found.size();
      if (a.prefix.empty()) {
        if (last) replaced[a.first] = "\t" + assignment;
        else dropped[a.first] = true;
      } else {
        // Keep the header the assignment shared its line with.
        replaced[a.first] = a.prefix + "\n" + (last ? "\t" + assignment : "");
      }
    }
  }

  std::string out;
  auto ensure_newline = [&out] {
    if (!out.empty() && out.back() != '\n') out += '\n';
  };
  for (size_t i = 0; i < lines.size(); ++i) {
    if (replaced[i]) out += *replaced[i];
    else if (!dropped[i]) out += lines[i];
    if (!added.empty() && scan.user_end && *scan.user_end == i) {
      ensure_newline();
      out += added;
    }
  }
  if (!added.empty() && !scan.user_end) {
    ensure_newline();
    out += "[user]\n" + added;
  }
  return out;
}

GitIdentity HostGitIdentity(CommandRunner& runner) {
  GitIdentity identity;
  for (auto [key, field] : {std::pair{"user.name", &identity.name},
                            std::pair{"user.email", &identity.email}}) {
    auto r = runner.Run({.argv = {"git", "config", "--global", "--get", key},
                         .timeout = std::chrono::seconds(5)});
    if (!r.ok() || r->exit_code != 0) continue;
    std::string v = r->out;
    while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
    if (v.empty() || v.find('\n') != std::string::npos) continue;
    *field = v;
  }
  return identity;
}

}  // namespace banger::runtime
