#include "reconciler/vmm/firecracker/api_requests.h"

#include <cctype>

namespace banger::vmm {
namespace {

using nlohmann::json;

// Firecracker accepts alphanumerics and '_' in drive and interface ids.
bool ValidApiId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

}  // namespace

Result<std::vector<ApiRequest>> BuildBootRequests(const LaunchConfig& c,
                                                  const std::string& vsock_uds,
                                                  const PathMapper& map_path) {
  const std::string vm = "vm " + Quote(c.name);
  if (c.kernel.empty()) return InvalidArgument(vm + ": no kernel");
  std::vector<ApiRequest> out;
  out.push_back({"PUT", "/machine-config",
                 json{{"vcpu_count", c.vcpus}, {"mem_size_mib", c.memory_bytes >> 20}}});

  json boot = {{"kernel_image_path", map_path(c.kernel)}};
  if (!c.initrd.empty()) boot["initrd_path"] = map_path(c.initrd);
  if (!c.cmdline.empty()) boot["boot_args"] = c.cmdline;
  out.push_back({"PUT", "/boot-source", boot});

  for (size_t i = 0; i < c.drives.size(); ++i) {
    const DriveConfig& d = c.drives[i];
    if (!ValidApiId(d.id))
      return InvalidArgument(vm + ": drive id " + Quote(d.id) + " must be alphanumeric or '_'");
    if (d.format != "raw") {
      return InvalidArgument(vm + ": drive " + Quote(d.id) + ": firecracker reads raw images only, not " +
                             Quote(d.format));
    }
    out.push_back({"PUT", "/drives/" + d.id,
                   json{{"drive_id", d.id},
                        {"path_on_host", map_path(d.path)},
                        {"is_root_device", i == 0},
                        {"is_read_only", d.read_only}}});
  }

  for (size_t i = 0; i < c.nets.size(); ++i) {
    const NetConfig& n = c.nets[i];
    // Firecracker opens the tap itself and has no way to receive an fd.
    if (n.tap.empty())
      return InvalidArgument(vm + ": firecracker needs a tap device name, not only an fd");
    const std::string id = "eth" + std::to_string(i);
    json iface = {{"iface_id", id}, {"host_dev_name", n.tap}};
    if (!n.mac.empty()) iface["guest_mac"] = n.mac;
    out.push_back({"PUT", "/network-interfaces/" + id, iface});
  }

  if (c.want_channel) {
    out.push_back({"PUT", "/vsock", json{{"guest_cid", kFirecrackerGuestCid}, {"uds_path", vsock_uds}}});
  }
  return out;
}

ApiRequest InstanceStartRequest() {
  return {"PUT", "/actions", json{{"action_type", "InstanceStart"}}};
}

ApiRequest SendCtrlAltDelRequest() {
  return {"PUT", "/actions", json{{"action_type", "SendCtrlAltDel"}}};
}

ApiRequest PauseVmRequest() { return {"PATCH", "/vm", json{{"state", "Paused"}}}; }

ApiRequest ResumeVmRequest() { return {"PATCH", "/vm", json{{"state", "Resumed"}}}; }

ApiRequest CreateSnapshotRequest(const std::string& state_path, const std::string& memory_path) {
  return {"PUT", "/snapshot/create",
          json{{"snapshot_type", "Full"},
               {"snapshot_path", state_path},
               {"mem_file_path", memory_path}}};
}

Result<std::vector<ApiRequest>> BuildRestoreRequests(const LaunchConfig& c,
                                                     const std::string& state_path,
                                                     const std::string& memory_path,
                                                     const std::string& vsock_uds,
                                                     const PathMapper& map_path) {
  const std::string vm = "vm " + Quote(c.name);
  json load = {{"snapshot_path", map_path(state_path)},
               {"mem_backend", json{{"backend_type", "File"},
                                    {"backend_path", map_path(memory_path)}}},
               {"resume_vm", false}};
  json overrides = json::array();
  for (size_t i = 0; i < c.nets.size(); ++i) {
    if (c.nets[i].tap.empty())
      return InvalidArgument(vm + ": firecracker needs a tap device name, not only an fd");
    overrides.push_back(json{{"iface_id", "eth" + std::to_string(i)},
                             {"host_dev_name", c.nets[i].tap}});
  }
  if (!overrides.empty()) load["network_overrides"] = overrides;
  if (c.want_channel) load["vsock_override"] = json{{"uds_path", vsock_uds}};
  std::vector<ApiRequest> out;
  out.push_back({"PUT", "/snapshot/load", load});
  for (const DriveConfig& d : c.drives) {
    if (!ValidApiId(d.id))
      return InvalidArgument(vm + ": drive id " + Quote(d.id) + " must be alphanumeric or '_'");
    if (d.format != "raw") {
      return InvalidArgument(vm + ": drive " + Quote(d.id) +
                             ": firecracker reads raw images only, not " + Quote(d.format));
    }
    out.push_back({"PATCH", "/drives/" + d.id,
                   json{{"drive_id", d.id}, {"path_on_host", map_path(d.path)}}});
  }
  out.push_back(ResumeVmRequest());
  return out;
}

}  // namespace banger::vmm
