// The workspace a [[vm]] declares (`workspace = { repo, ref }`): built on
// the host before the VM boots, sent through the guest agent once it is
// ready, with the same import `vm workspace prepare` makes.
#pragma once

#include <string>

#include "reconciler/apply/effects.h"
#include "reconciler/model/handles.h"
#include "reconciler/os/exec.h"
#include "reconciler/workspace/import_builder.h"
#include "specs/desired.h"

namespace banger::workspace {

// What happens to a /root/repo the guest already has.
enum class ExistingRepo {
  kKeep,     // at create: a work disk kept across a replace brings the old one; it stays
  kReplace,  // the declared workspace changed: the old one is removed, the new one imported
};

// The import options `spec` stands for: the repository with `~` expanded
// against `home`, its ref (a branch of that name, else any commit).
ImportOptions DeclaredImportOptions(const specs::WorkspaceSpec& spec, const std::string& home);

// Builds the import on the host (see BuildImport); nothing touches a VM.
Result<ImportPlan> BuildDeclaredImport(CommandRunner& runner, const specs::WorkspaceSpec& spec,
                                       const std::string& home, const std::string& temp_parent);

// Sends `plan` into the running guest behind `handles` (its agent must
// answer within `connect_timeout`). Notes what it did on `progress`.
Status SendDeclaredImport(const model::VmHandles& handles, const ImportPlan& plan,
                          ExistingRepo existing, std::chrono::seconds connect_timeout,
                          apply::StepProgress& progress);

}  // namespace banger::workspace
