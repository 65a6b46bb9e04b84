// handles.json readers on arbitrary files (a crash, a full disk or a hand
// edit can leave anything there). Properties: no crash, uncaught exception
// or sanitizer report; a refused file gets kCorruption naming it; handles
// that load are written and read back unchanged.
#include <cstdint>
#include <string>

#include "reconciler/store/handles_file.h"
#include "tests/fuzz/fuzz_support.h"

using namespace banger;

namespace {

bool SameHandles(const model::VmHandles& a, const model::VmHandles& b) {
  return a.vmm == b.vmm && a.pid == b.pid && a.pid_start_ticks == b.pid_start_ticks &&
         a.accel == b.accel && a.api_socket == b.api_socket &&
         a.channel_socket == b.channel_socket && a.console_log == b.console_log &&
         a.tap == b.tap && a.mac == b.mac && a.rootfs == b.rootfs &&
         a.cow_method == b.cow_method && a.work_disk == b.work_disk && a.jail == b.jail;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string path = fuzz::WriteInput("handles.json", fuzz::AsView(data, size));
  auto handles = store::ReadHandles(path);
  if (!handles.ok()) {
    fuzz::ExpectCorruptionNaming(handles.error(), path);
    return 0;
  }
  if (!handles->has_value()) fuzz::Fail("an existing file read as absent");
  std::string copy = fuzz::Scratch() + "/handles-copy.json";
  Status written = store::WriteHandles(copy, **handles);
  // The JSON parser refuses strings that are not UTF-8, so whatever was
  // read can be written.
  if (!written.ok())
    fuzz::Fail("handles that were read cannot be written: " + written.error().message());
  auto back = store::ReadHandles(copy);
  if (!back.ok() || !back->has_value() || !SameHandles(**back, **handles))
    fuzz::Fail("handles changed on write -> read");
  return 0;
}
