#include "helper/helper_service.h"

#include "reconciler/base/version.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "helper/block_devices.h"
#include "helper/nat_table.h"
#include "helper/protocol/codec.h"
#include "helper/owner_paths.h"
#include "helper/protocol/names.h"

namespace banger::helper {

Result<std::unique_ptr<HelperService>> HelperService::Create(HelperConfig config) {
  BANGER_ASSIGN_OR_RETURN(StateStore store, StateStore::Open(config.state_dir, config.owner_uid));
  std::unique_ptr<HelperService> service(new HelperService(std::move(config), std::move(store)));
  // NAT rules do not survive a reboot or a flushed ruleset; the record does.
  // Restoring them at start keeps running guests' outbound traffic working.
  if (!service->store_.state().nat.empty()) {
    BANGER_RETURN_IF_ERROR(EnableIpv4Forwarding());
    if (auto st = ApplyNatTable(service->runner(), service->store_.state().nat); !st.ok()) {
      return st.error().WithContext("restore NAT from the helper record");
    }
  }
  return service;
}

Reply HelperService::HandleFrame(std::string_view frame) {
  auto request = DecodeRequest(frame);
  if (!request.ok()) return Reply{EncodeErrorResponse(request.error()), UniqueFd()};
  return Handle(*request);
}

Reply HelperService::Handle(const Request& request) {
  return std::visit(
      [&](const auto& q) -> Reply {
        Reply reply;
        auto result = Do(q, &reply.fd);
        if (!result.ok()) {
          reply.fd.Reset();
          reply.frame = EncodeErrorResponse(result.error());
        } else {
          reply.frame = EncodeResponse(*result);
        }
        return reply;
      },
      request);
}

Result<PingResponse> HelperService::Do(const PingRequest&, UniqueFd*) {
  return PingResponse{BuildString(), kProtocolVersion, config_.owner_uid};
}

// ---- NAT ------------------------------------------------------------------------

Result<EmptyResponse> HelperService::Do(const NatEnableRequest& q, UniqueFd*) {
  std::string what = "enable NAT for " + Quote(q.address);
  std::lock_guard lock(mu_);
  HelperState& state = store_.state();
  BridgeRecord* bridge = state.FindBridge(q.bridge);
  if (bridge == nullptr) {
    return Error(Code::kPermissionDenied,
                 what + ": bridge " + Quote(q.bridge) + " was not created by the helper");
  }
  BANGER_ASSIGN_OR_RETURN(Ipv4Cidr cidr, ParseInterfaceCidr(bridge->address));
  BANGER_ASSIGN_OR_RETURN(uint32_t guest, ParseIpv4(q.address));
  if (!cidr.Contains(guest) || guest == cidr.address || guest == cidr.network() ||
      guest == cidr.broadcast()) {
    return InvalidArgument(what + ": not a guest address in bridge " + Quote(q.bridge) +
                           "'s subnet " + bridge->address);
  }
  std::vector<NatRecord> next = state.nat;
  if (NatRecord* existing = state.FindNat(q.address)) {
    if (existing->bridge == q.bridge) return EmptyResponse{};
    next.erase(next.begin() + (existing - state.nat.data()));
  }
  next.push_back({q.address, q.bridge});
  if (auto st = EnableIpv4Forwarding(); !st.ok()) return st.error().WithContext(what);
  if (auto st = ApplyNatTable(runner(), next); !st.ok()) return st.error().WithContext(what);
  std::vector<NatRecord> previous = std::move(state.nat);
  state.nat = std::move(next);
  if (auto st = store_.Save(); !st.ok()) {
    state.nat = std::move(previous);
    (void)ApplyNatTable(runner(), state.nat);  // best effort: table follows record
    return st.error().WithContext(what);
  }
  return EmptyResponse{};
}

Result<EmptyResponse> HelperService::Do(const NatDisableRequest& q, UniqueFd*) {
  std::string what = "disable NAT for " + Quote(q.address);
  std::lock_guard lock(mu_);
  HelperState& state = store_.state();
  NatRecord* existing = state.FindNat(q.address);
  if (existing == nullptr) return EmptyResponse{};  // already off
  std::vector<NatRecord> next = state.nat;
  next.erase(next.begin() + (existing - state.nat.data()));
  if (auto st = ApplyNatTable(runner(), next); !st.ok()) return st.error().WithContext(what);
  std::vector<NatRecord> previous = std::move(state.nat);
  state.nat = std::move(next);
  if (auto st = store_.Save(); !st.ok()) {
    state.nat = std::move(previous);
    (void)ApplyNatTable(runner(), state.nat);
    return st.error().WithContext(what);
  }
  return EmptyResponse{};
}

// ---- loop devices -----------------------------------------------------------------

Result<DeviceResponse> HelperService::Do(const LoopAttachRequest& q, UniqueFd*) {
  std::string what = "attach loop for " + Quote(q.path);
  auto file = OpenNoSymlinks(q.path, q.read_only ? O_RDONLY : O_RDWR);
  if (!file.ok()) return file.error().WithContext("attach loop");
  struct stat st {};
  if (fstat(file->get(), &st) != 0) return Error::FromErrno(what + ": stat");
  if (!S_ISREG(st.st_mode)) {
    return Error(Code::kPermissionDenied, what + ": not a regular file");
  }
  // Only the owner's own files: a loop device over a file the owner cannot
  // read would hand them its contents.
  if (st.st_uid != config_.owner_uid) {
    return Error(Code::kPermissionDenied, what + ": the file belongs to uid " +
                                              std::to_string(st.st_uid) + ", not the owner " +
                                              std::to_string(config_.owner_uid));
  }
  std::lock_guard lock(mu_);
  BANGER_ASSIGN_OR_RETURN(
      AttachedLoop loop,
      AttachLoop(file->get(), q.read_only, "banger-helper:" + std::to_string(config_.owner_uid)));
  store_.state().loops.push_back({loop.device, q.path, loop.inode, loop.dev});
  if (auto saved = store_.Save(); !saved.ok()) {
    store_.state().loops.pop_back();
    (void)DetachLoop(loop.device, loop.inode, loop.dev);
    return saved.error().WithContext(what);
  }
  return DeviceResponse{loop.device};
}

Result<EmptyResponse> HelperService::Do(const LoopDetachRequest& q, UniqueFd*) {
  std::lock_guard lock(mu_);
  HelperState& state = store_.state();
  LoopRecord* rec = state.FindLoop(q.device);
  if (rec == nullptr) {
    return Error(Code::kPermissionDenied,
                 "detach loop " + Quote(q.device) + ": the helper did not attach it");
  }
  BANGER_RETURN_IF_ERROR(DetachLoop(rec->device, rec->inode, rec->dev));
  state.loops.erase(state.loops.begin() + (rec - state.loops.data()));
  BANGER_RETURN_IF_ERROR(store_.Save());
  return EmptyResponse{};
}

// ---- device-mapper ----------------------------------------------------------------

Result<DeviceResponse> HelperService::Do(const DmSnapshotCreateRequest& q, UniqueFd*) {
  std::string what = "create snapshot " + Quote(q.name);
  std::string dmsetup = FindProgram("dmsetup");
  if (auto st = CheckDeviceMapper(config_.dm_control, dmsetup); !st.ok()) {
    return st.error().WithContext(what);
  }
  std::lock_guard lock(mu_);
  HelperState& state = store_.state();
  for (const std::string* device : {&q.origin, &q.cow}) {
    if (state.FindLoop(*device) == nullptr) {
      return Error(Code::kPermissionDenied,
                   what + ": " + Quote(*device) + " was not attached by the helper");
    }
  }
  if (state.FindDm(q.name) != nullptr) {
    return Error(Code::kAlreadyExists, what + ": it exists already");
  }
  BANGER_ASSIGN_OR_RETURN(uint64_t bytes, BlockDeviceSize(q.origin));
  ExecRequest request;
  request.argv = DmCreateArgv(dmsetup, q.name,
                              DmSnapshotTable(bytes / 512, q.origin, q.cow, q.persistent,
                                              q.chunk_sectors));
  request.timeout = std::chrono::seconds(30);
  if (auto r = RunChecked(runner(), request); !r.ok()) return r.error().WithContext(what);
  state.dm.push_back({q.name});
  BANGER_RETURN_IF_ERROR(store_.Save());
  return DeviceResponse{DmDevicePath(q.name)};
}

Result<EmptyResponse> HelperService::Do(const DmSnapshotRemoveRequest& q, UniqueFd*) {
  std::string what = "remove snapshot " + Quote(q.name);
  std::string dmsetup = FindProgram("dmsetup");
  if (auto st = CheckDeviceMapper(config_.dm_control, dmsetup); !st.ok()) {
    return st.error().WithContext(what);
  }
  std::lock_guard lock(mu_);
  HelperState& state = store_.state();
  DmRecord* rec = state.FindDm(q.name);
  if (rec == nullptr) {
    return Error(Code::kPermissionDenied, what + ": the helper did not create it");
  }
  ExecRequest request;
  request.argv = DmRemoveArgv(dmsetup, q.name);
  request.timeout = std::chrono::seconds(30);
  if (auto r = RunChecked(runner(), request); !r.ok()) return r.error().WithContext(what);
  state.dm.erase(state.dm.begin() + (rec - state.dm.data()));
  BANGER_RETURN_IF_ERROR(store_.Save());
  return EmptyResponse{};
}

// ---- sockets ------------------------------------------------------------------------

Result<EmptyResponse> HelperService::Do(const ChownSocketRequest& q, UniqueFd*) {
  BANGER_RETURN_IF_ERROR(ChownSocket(q.path, config_.allowed_socket_dirs, config_.owner_uid));
  return EmptyResponse{};
}

}  // namespace banger::helper
