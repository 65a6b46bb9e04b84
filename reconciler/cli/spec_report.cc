#include "reconciler/cli/spec_report.h"

#include <ostream>

namespace banger::cli {

bool ReportDiagnostics(Console& console, const specs::ParseOutcome& outcome) {
  for (const auto& w : outcome.warnings) console.err << "warning: " << w.ToString() << "\n";
  for (const auto& e : outcome.errors) console.err << e.ToString() << "\n";
  if (!outcome.errors.empty()) {
    const size_t n = outcome.errors.size();
    console.err << "banger: " << n << (n == 1 ? " error" : " errors") << " in the spec\n";
    return false;
  }
  return true;
}

void AddFileOption(CLI::App* cmd, std::vector<std::string>& files, bool required) {
  auto* opt = cmd->add_option("-f,--file", files,
                              "spec file or directory of *.toml files (repeatable)");
  if (required) opt->required();
}

}  // namespace banger::cli
