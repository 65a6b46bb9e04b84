// The saved-plan reader (`banger apply plan.json`) on arbitrary files.
// Properties: no crash, uncaught exception or sanitizer report; a refused
// file gets a kCorruption error naming it; a plan that loads is stable
// under save -> load (what apply would act on is what the file says).
#include <cstdint>
#include <string>

#include "reconciler/plan/render.h"
#include "tests/fuzz/fuzz_support.h"

using namespace banger;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string path = fuzz::WriteInput("plan.json", fuzz::AsView(data, size));
  Result<plan::SavedPlan> saved = plan::LoadSavedPlan(path);
  if (!saved.ok()) {
    fuzz::ExpectCorruptionNaming(saved.error(), path);
    return 0;
  }
  std::string first = plan::SavedPlanToString(*saved);
  Result<plan::SavedPlan> again = plan::LoadSavedPlan(fuzz::WriteInput("plan.json", first));
  if (!again.ok()) fuzz::Fail("a saved plan does not load again: " + again.error().message());
  if (plan::SavedPlanToString(*again) != first)
    fuzz::Fail("a saved plan changed on save -> load:\n" + first);
  return 0;
}
