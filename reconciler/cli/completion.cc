#include "reconciler/cli/completion.h"

#include <cctype>

namespace banger::cli {
namespace {

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// Words the scripts can carry unquoted in their space-separated tables.
bool PlainWord(const std::string& w) {
  if (w.empty()) return false;
  for (char c : w) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      return false;
  }
  return true;
}

// A CLI11 IsMember check shows in the type name as "TEXT:{a,b,c}".
std::vector<std::string> ChoicesOf(const std::string& type_name) {
  std::vector<std::string> words;
  const size_t open = type_name.find(":{");
  if (open == std::string::npos || type_name.back() != '}') return words;
  std::string body = type_name.substr(open + 2, type_name.size() - open - 3);
  size_t start = 0;
  for (;;) {
    size_t comma = body.find(',', start);
    std::string w = body.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!PlainWord(w)) return {};
    words.push_back(w);
    if (comma == std::string::npos) return words;
    start = comma + 1;
  }
}

// What a value completes to. CLI11 knows a value's type, not its meaning;
// banger's verbs follow conventions that give it: a VM-name positional is
// described "VM name(s)", paths are the --file/--out options and apply's
// saved `plan`, and a choice of words is an IsMember check.
CompletionValue ValueOf(const CLI::Option& opt, bool positional) {
  CompletionValue v;
  const std::string type = opt.get_type_name();
  v.words = ChoicesOf(type);
  if (!v.words.empty()) {
    v.kind = ValueKind::kWords;
    return v;
  }
  if (positional) {
    if (StartsWith(opt.get_description(), "VM name")) v.kind = ValueKind::kVmName;
    else if (opt.get_name(true) == "plan") v.kind = ValueKind::kFile;
    return v;
  }
  for (const auto& l : opt.get_lnames()) {
    if (l == "file" || l == "out") v.kind = ValueKind::kFile;
  }
  return v;
}

std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\t') c = ' ';
  }
  return s;
}

void Describe(const CLI::App& app, const std::string& path, CompletionCommand& out) {
  out.path = path;
  out.name = app.get_name();
  out.description = OneLine(app.get_description());
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->get_group().empty()) continue;  // hidden
    if (!opt->nonpositional()) {
      CompletionPositional p;
      p.name = opt->get_name(true);
      p.value = ValueOf(*opt, true);
      p.repeats = opt->get_items_expected_max() > 1;
      out.positionals.push_back(std::move(p));
      continue;
    }
    CompletionOption o;
    for (const auto& s : opt->get_snames()) o.names.push_back("-" + s);
    for (const auto& l : opt->get_lnames()) o.names.push_back("--" + l);
    o.description = OneLine(opt->get_description());
    o.takes_value = opt->get_items_expected_max() != 0;  // flags expect 0 values
    if (o.takes_value) o.value = ValueOf(*opt, false);
    out.options.push_back(std::move(o));
  }
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App* a) {
         return !a->get_group().empty();
       })) {
    CompletionCommand child;
    Describe(*sub, path + " " + sub->get_name(), child);
    out.subcommands.push_back(std::move(child));
  }
}

// The table entry for a value: none, file, vm, or w:a,b,c.
std::string KindToken(const CompletionValue& v) {
  switch (v.kind) {
    case ValueKind::kFile: return "file";
    case ValueKind::kVmName: return "vm";
    case ValueKind::kWords: {
      std::string t = "w:";
      for (size_t i = 0; i < v.words.size(); ++i) t += (i ? "," : "") + v.words[i];
      return t;
    }
    case ValueKind::kNone: break;
  }
  return "none";
}

std::string Join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

}  // namespace

CompletionCommand DescribeCommands(const CLI::App& app) {
  CompletionCommand root;
  Describe(app, app.get_name(), root);
  return root;
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

CompletionRow RowOf(const CompletionCommand& c) {
  std::vector<std::string> subs, flags, opts, args;
  for (const auto& s : c.subcommands) subs.push_back(s.name);
  for (const auto& o : c.options) {
    for (const auto& n : o.names) {
      if (o.takes_value) opts.push_back(n + "=" + KindToken(o.value));
      else flags.push_back(n);
    }
  }
  for (const auto& p : c.positionals) args.push_back(KindToken(p.value) + (p.repeats ? "+" : ""));
  return {Join(subs), Join(flags), Join(opts), Join(args)};
}

namespace {

void BashTable(const CompletionCommand& c, std::string& out) {
  const CompletionRow row = RowOf(c);
  out += "    " + ShellQuote(c.path) + ")\n";
  out += "      subs=" + ShellQuote(row.subs) + " flags=" + ShellQuote(row.flags) + "\n";
  out += "      opts=" + ShellQuote(row.opts) + " args=" + ShellQuote(row.args) + " ;;\n";
  for (const auto& s : c.subcommands) BashTable(s, out);
}

}  // namespace

std::string BashCompletion(const CompletionCommand& root) {
  const std::string fn = "_" + root.name;
  std::string out =
      "# bash completion for " + root.name + ", generated by `" + root.name +
      " completion bash`.\n"
      "# Load it with: source <(" + root.name + " completion bash)\n\n";
  out += fn + "_spec() {\n  subs= flags= opts= args=\n  case $1 in\n";
  BashTable(root, out);
  out += "  esac\n}\n\n";
  out += fn + R"sh(_opt_kind() {
  local o
  for o in $opts; do
    if [[ ${o%%=*} == "${1%%=*}" ]]; then echo "${o#*=}"; return; fi
  done
}

)sh" + fn + R"sh(_arg_kind() {
  local a n=0
  for a in $args; do
    if [[ $a == *+ ]]; then echo "${a%+}"; return; fi
    if (( n == $1 )); then echo "$a"; return; fi
    ((n++))
  done
}

)sh" + fn + R"sh(_values() {
  case $1 in
    file) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$2")) ;;
    vm) COMPREPLY=($(compgen -W "$("$cmd" vm list -q --all 2>/dev/null)" -- "$2")) ;;
    w:*) local w=${1#w:}; COMPREPLY=($(compgen -W "${w//,/ }" -- "$2")) ;;
  esac
}

)sh" + fn + R"sh(() {
  local cur=${COMP_WORDS[COMP_CWORD]} cmd=${COMP_WORDS[0]} cpath=)sh" + root.name + R"sh( npos=0
  local i w kind o names subs flags opts args
  COMPREPLY=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    # After --, the words are a command for the guest.
    [[ $w == -- ]] && return 0
    )sh" + fn + R"sh(_spec "$cpath"
    if [[ $w == -* ]]; then
      kind=$()sh" + fn + R"sh(_opt_kind "$w")
      [[ -n $kind && $w != *=* ]] && ((i++))
      continue
    fi
    if (( npos == 0 )) && [[ " $subs " == *" $w "* ]]; then cpath+=" $w"; else ((npos++)); fi
  done
  )sh" + fn + R"sh(_spec "$cpath"
  if (( COMP_CWORD > 1 )); then
    kind=$()sh" + fn + R"sh(_opt_kind "${COMP_WORDS[COMP_CWORD-1]}")
    if [[ -n $kind ]]; then )sh" + fn + R"sh(_values "$kind" "$cur"; return 0; fi
  fi
  if [[ $cur == -* ]]; then
    names=$flags
    for o in $opts; do names+=" ${o%%=*}"; done
    COMPREPLY=($(compgen -W "$names" -- "$cur"))
    return 0
  fi
  if [[ -n $subs ]] && (( npos == 0 )); then
    COMPREPLY=($(compgen -W "$subs" -- "$cur"))
    return 0
  fi
  kind=$()sh" + fn + R"sh(_arg_kind "$npos")
  [[ -n $kind ]] && )sh" + fn + R"sh(_values "$kind" "$cur"
  return 0
}

complete -F )sh" + fn + " " + root.name + "\n";
  return out;
}

}  // namespace banger::cli
