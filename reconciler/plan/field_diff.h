// Field-by-field comparison of an applied spec with a desired one, each
// difference tagged with its consequence. The table of consequences lives
// here and nowhere else (see planner.h for the summary).
#pragma once

#include <string>
#include <vector>

#include "reconciler/plan/plan.h"
#include "specs/desired.h"

namespace banger::plan {

// Builds a Change with its reason line: "memory 1G -> 2G: restart".
Change MakeChange(std::string field, std::string before, std::string after,
                  Action consequence);
// A change without before/after values: "process not running: restart".
Change MakeEvent(std::string field, std::string what, Action consequence);

std::vector<Change> DiffSettings(const specs::Settings& applied,
                                 const specs::Settings& desired);
std::vector<Change> DiffKernel(const specs::KernelSpec& applied,
                               const specs::KernelSpec& desired);
std::vector<Change> DiffImage(const specs::ImageSpec& applied,
                              const specs::ImageSpec& desired);
std::vector<Change> DiffFileSync(const specs::FileSyncSpec& applied,
                                 const specs::FileSyncSpec& desired);
// Disk shrinking is reported through `errors` ("disk 4G -> 2G: ...").
std::vector<Change> DiffVm(const specs::VmSpec& applied, const specs::VmSpec& desired,
                           std::vector<std::string>* errors);

// Rendering of values in reasons.
std::string RenderSize(uint64_t bytes);
std::string RenderList(const std::vector<std::string>& items);

Action Strongest(const std::vector<Change>& changes);

}  // namespace banger::plan
