// Small builders for desired specs, records and observations in logic tests.
#pragma once

#include "reconciler/plan/observed.h"
#include "specs/desired.h"

namespace banger::testing {

specs::KernelSpec Kernel(const std::string& name, const std::string& deb = "linux-image-cloud-amd64");
specs::ImageSpec DirImage(const std::string& name, const std::string& dir = "/srv/rootfs");
specs::FileSyncSpec FileSync(const std::string& name, const std::string& host,
                             const std::string& guest);
specs::VmSpec Vm(const std::string& name, const std::string& image = "base",
                 const std::string& kernel = "default");

// A clone of `source`'s snapshot `snapshot`, with the fields the loader
// would fill in from the source.
specs::VmSpec Clone(const std::string& name, const std::string& snapshot,
                    const specs::VmSpec& source);

// A desired state with one kernel "default", one image "base" and the VMs.
specs::DesiredState Fleet(std::vector<specs::VmSpec> vms);

// The observation of a store that converged exactly `desired`, with every VM
// running and every artifact present.
plan::Observed Converged(const specs::DesiredState& desired, int64_t serial = 7);

}  // namespace banger::testing
