#include "reconciler/workspace/git_command.h"

namespace banger::workspace {
namespace {

std::string TrimNewline(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string Describe(const std::string& dir, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"git"};
  argv.insert(argv.end(), args.begin(), args.end());
  return "in " + Quote(dir) + ": " + DescribeArgv(argv);
}

}  // namespace

Result<ExecResult> GitCommand::Exec(const std::string& dir,
                                    const std::vector<std::string>& args) const {
  ExecRequest req;
  req.argv = {"git", "-C", dir};
  req.argv.insert(req.argv.end(), args.begin(), args.end());
  req.timeout = timeout_;
  // The user's git configuration (identity, insteadOf, safe.directory)
  // matters here, so HOME and XDG_CONFIG_HOME come through; prompts never.
  std::vector<std::string> env = DefaultEnvironment();
  if (const char* xdg = getenv("XDG_CONFIG_HOME")) env.push_back(std::string("XDG_CONFIG_HOME=") + xdg);
  env.push_back("GIT_TERMINAL_PROMPT=0");
  req.env = env;
  req.output_limit = 256u << 20;
  BANGER_ASSIGN_OR_RETURN(ExecResult r, runner_->Run(req));
  if (r.timed_out)
    return Error(Code::kTimeout, Describe(dir, args) + ": timed out after " +
                                     std::to_string(timeout_.count() / 1000) + " s");
  return r;
}

Result<std::string> GitCommand::Run(const std::string& dir,
                                    const std::vector<std::string>& args) const {
  BANGER_ASSIGN_OR_RETURN(ExecResult r, Exec(dir, args));
  if (r.exit_code != 0)
    return Error(Code::kFailedPrecondition,
                 Describe(dir, args) + ": exit " + std::to_string(r.exit_code) + ": " +
                     TrimNewline(r.err));
  return TrimNewline(std::move(r.out));
}

Result<std::optional<std::string>> GitCommand::Maybe(const std::string& dir,
                                                     const std::vector<std::string>& args,
                                                     int absent_code) const {
  BANGER_ASSIGN_OR_RETURN(ExecResult r, Exec(dir, args));
  if (r.exit_code == absent_code) return std::optional<std::string>();
  if (r.exit_code != 0)
    return Error(Code::kFailedPrecondition,
                 Describe(dir, args) + ": exit " + std::to_string(r.exit_code) + ": " +
                     TrimNewline(r.err));
  return std::optional<std::string>(TrimNewline(std::move(r.out)));
}

std::vector<std::string> SplitNul(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\0', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

}  // namespace banger::workspace
