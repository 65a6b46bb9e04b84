// Shell completion scripts generated from the CLI11 command tree.
//
// The scripts carry a table of every command path (`banger`, `banger vm`,
// `banger vm show`, ...) with its subcommands, flags, options and
// positional arguments, read from the same CLI11 app that parses the
// command line, so a verb added to the app is completed without touching
// this code. What a value completes to follows banger's conventions (see
// ValueKind); VM names come from `banger vm list -q --all` when the shell
// asks for them.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace banger::cli {

enum class ValueKind {
  kNone,    // free text: nothing offered
  kFile,    // a path: the shell's file completion
  kVmName,  // names from `banger vm list -q --all`
  kWords,   // a fixed set (a CLI11 IsMember check)
};

struct CompletionValue {
  ValueKind kind = ValueKind::kNone;
  std::vector<std::string> words;  // kWords
};

struct CompletionOption {
  std::vector<std::string> names;  // "-f", "--file"
  std::string description;
  bool takes_value = false;
  CompletionValue value;
};

struct CompletionPositional {
  std::string name;
  CompletionValue value;
  bool repeats = false;  // takes every remaining argument
};

struct CompletionCommand {
  std::string path;  // "banger vm show"
  std::string name;  // "show"
  std::string description;
  std::vector<CompletionOption> options;
  std::vector<CompletionPositional> positionals;
  std::vector<CompletionCommand> subcommands;
};

// The tree under `app` (whose name is the program's), skipping hidden
// subcommands and options (those in the "" group).
CompletionCommand DescribeCommands(const CLI::App& app);

// Scripts for `source <(banger completion bash)`, zsh's fpath (`_banger`)
// and fish's completions directory (`banger.fish`).
std::string BashCompletion(const CompletionCommand& root);
std::string ZshCompletion(const CompletionCommand& root);
std::string FishCompletion(const CompletionCommand& root);

// One command path's lists as the bash and zsh scripts carry them, space
// separated: flags take no value; opts are NAME=KIND; args are the
// positionals' kinds in order, with a trailing + on one that repeats. A KIND
// is none, file, vm or w:WORD,WORD.
struct CompletionRow {
  std::string subs, flags, opts, args;
};
CompletionRow RowOf(const CompletionCommand& command);

// `s` as one single-quoted shell word (bash, zsh and fish alike).
std::string ShellQuote(const std::string& s);

}  // namespace banger::cli
