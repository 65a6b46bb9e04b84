#include "reconciler/cli/spec_report.h"

#include <ostream>

#include "reconciler/kernel/kernel_catalog.h"

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

void CheckCatalogNames(specs::ParseOutcome* outcome) {
  auto at = [&](const std::string& key) {
    auto it = outcome->locations.find(key);
    return it == outcome->locations.end() ? specs::SourceLocation{} : it->second;
  };
  bool any = false;
  for (const auto& k : outcome->state.kernels) any |= k.source == specs::KernelSource::kCatalog;
  if (!any) return;
  auto catalog = kernel::LoadCatalog(outcome->state.settings.kernel_catalog);
  if (!catalog.ok()) {
    outcome->errors.push_back({at("settings.kernel_catalog"), "settings.kernel_catalog",
                               catalog.error().message()});
    return;
  }
  for (const auto& k : outcome->state.kernels) {
    if (k.source != specs::KernelSource::kCatalog) continue;
    auto entry = kernel::FindCatalogEntry(*catalog, k.catalog);
    if (entry.ok()) continue;
    const std::string key = "kernel." + k.name + ".catalog";
    outcome->errors.push_back({at(key), key, entry.error().message() +
                                                 "; `banger kernel catalog` lists them"});
  }
}

void AddFileOption(CLI::App* cmd, std::vector<std::string>& files, bool required) {
  auto* opt = cmd->add_option("-f,--file", files,
                              "spec file or directory of *.toml files (repeatable)");
  if (required) opt->required();
}

}  // namespace banger::cli
