// Rendering of spec diagnostics, shared by the verbs that read specs.
#pragma once

#include "reconciler/cli/cli.h"
#include "specs/loader.h"

namespace banger::cli {

// Prints warnings and errors (one per line, file:line:col: key: message) to
// stderr. Returns false when there were errors, after a count line.
bool ReportDiagnostics(Console& console, const specs::ParseOutcome& outcome);

// Checks that every `catalog = NAME` kernel names an entry of the catalog
// the spec uses (the built-in one plus settings.kernel_catalog), adding an
// error at the key for each that does not.
void CheckCatalogNames(specs::ParseOutcome* outcome);

// Adds the repeatable -f/--file option.
void AddFileOption(CLI::App* cmd, std::vector<std::string>& files, bool required = true);

}  // namespace banger::cli
