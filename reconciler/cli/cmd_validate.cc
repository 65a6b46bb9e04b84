// banger validate -f FILE...: check spec files without touching anything.
#include <ostream>

#include "reconciler/cli/session.h"
#include "reconciler/cli/spec_report.h"
#include "reconciler/os/fs.h"
#include "reconciler/store/state_dir.h"
#include "reconciler/store/store.h"

namespace banger::cli {
namespace {

struct ValidateArgs {
  std::vector<std::string> files;
  std::string state_dir;
};

int RunValidate(Console& console, const ValidateArgs& args) {
  specs::ParseOutcome outcome = specs::ParseSpecFiles(args.files);
  if (outcome.ok()) {
    // References may name what the store already holds; reading an existing
    // store is fine, creating one just to validate is not.
    specs::KnownObjects known;
    store::StatePaths paths(ResolveStateDirFor(args.state_dir, outcome).dir);
    if (PathExists(paths.db())) {
      auto st = store::Store::Open(paths.root());
      if (!st.ok()) return Fail(console, st.error());
      auto snap = (*st)->Load();
      if (!snap.ok()) return Fail(console, snap.error());
      for (const auto& [name, _] : snap->images) known.images.insert(name);
      for (const auto& [name, _] : snap->kernels) known.kernels.insert(name);
    }
    specs::CheckReferences(&outcome, known);
    CheckCatalogNames(&outcome);
  }
  if (!ReportDiagnostics(console, outcome)) return kExitError;
  const auto& s = outcome.state;
  console.out << "valid: " << s.vms.size() << " vm, " << s.images.size() << " image, "
              << s.kernels.size() << " kernel, " << s.file_syncs.size() << " file_sync";
  if (!s.snapshots.empty()) console.out << ", " << s.snapshots.size() << " snapshot";
  console.out << " (" << s.files.size() << (s.files.size() == 1 ? " file" : " files") << ")\n";
  return kExitOk;
}

}  // namespace

void AddValidateCommand(CLI::App& app, Console& console, Command& command) {
  auto args = std::make_shared<ValidateArgs>();
  CLI::App* cmd = app.add_subcommand("validate", "check spec files and report every problem");
  AddFileOption(cmd, args->files);
  AddStateDirOption(cmd, args->state_dir);
  cmd->callback([&console, &command, args] {
    command.run = [&console, args] { return RunValidate(console, *args); };
  });
}

}  // namespace banger::cli
