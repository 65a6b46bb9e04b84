// The tar stream of a workspace import: directories, regular files and
// symlinks from host paths, owned by root in the archive (the guest's repo
// belongs to root), modes and link targets exact.
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "reconciler/base/error.h"
#include "reconciler/workspace/import_builder.h"

namespace banger::workspace {

using TarSink = std::function<Status(std::string_view)>;

// Writes `entries` as one pax archive to `sink`, reading each file as it
// goes. Sockets, FIFOs and devices are left out: git tracks none of them.
Status WriteImportTar(const std::vector<ImportEntry>& entries, const TarSink& sink);

}  // namespace banger::workspace
