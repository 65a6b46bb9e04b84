#include "reconciler/vmm/driver.h"

#include <chrono>

namespace banger::vmm {

bool ProbeBinaryVersion(const Result<std::string>& binary, CommandRunner& runner,
                        DriverProbe& probe) {
  if (!binary.ok()) {
    probe.detail = binary.error().message();
    return false;
  }
  probe.binary = *binary;
  ExecRequest req;
  req.argv = {probe.binary, "--version"};
  req.timeout = std::chrono::seconds(10);
  auto version = RunChecked(runner, req);
  if (!version.ok()) {
    probe.detail = version.error().message();
    return false;
  }
  probe.version = version->out.substr(0, version->out.find('\n'));
  return true;
}

}  // namespace banger::vmm
