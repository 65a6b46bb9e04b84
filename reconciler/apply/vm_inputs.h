// Resolving what a VM boots from: its kernel and image records, the
// file_sync entries it references and the settings. Shared by the executor
// and the imperative `vm` verbs so both boot a VM the same way.
#pragma once

#include "reconciler/apply/effects.h"

namespace banger::apply {

// `desired` may be null (imperative verbs act on what the store holds);
// when given, its file_sync entries and settings win over the store's.
Result<VmInputs> ResolveVmInputs(const specs::VmSpec& spec, const model::StoreSnapshot& records,
                                 const specs::DesiredState* desired);

}  // namespace banger::apply
