#include "reconciler/system/running_vms.h"

#include "reconciler/os/fs.h"
#include "reconciler/os/process.h"
#include "reconciler/store/handles_file.h"

namespace banger::system {

Result<std::vector<RunningVm>> RunningVms(const std::string& state_dir) {
  std::vector<RunningVm> running;
  const std::string vms_dir = JoinPath(state_dir, "vms");
  if (!IsDirectory(vms_dir)) return running;
  BANGER_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(vms_dir));
  for (const std::string& name : names) {
    const std::string path = JoinPath(JoinPath(vms_dir, name), "handles.json");
    BANGER_ASSIGN_OR_RETURN(auto handles, store::ReadHandles(path));
    if (!handles || handles->pid <= 0) continue;
    if (!ProcessAlive(handles->pid, handles->pid_start_ticks)) continue;
    running.push_back({name, handles->pid, handles->pid_start_ticks});
  }
  return running;
}

std::string VmNames(const std::vector<RunningVm>& vms) {
  std::string names;
  for (const RunningVm& vm : vms) names += (names.empty() ? "" : ", ") + vm.name;
  return names;
}

}  // namespace banger::system
