#include "helper/helper_service.h"

#include <net/if.h>

#include "reconciler/base/version.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <type_traits>

#include "helper/nat_table.h"
#include "helper/protocol/codec.h"
#include "helper/protocol/names.h"
#include "reconciler/os/detached_spawn.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/process.h"

namespace banger::helper {

Result<std::unique_ptr<HelperService>> HelperService::Create(HelperConfig config) {
  BANGER_ASSIGN_OR_RETURN(StateStore store, StateStore::Open(config.state_dir, config.owner_uid));
  std::unique_ptr<HelperService> service(new HelperService(std::move(config), std::move(store)));
  // NAT rules do not survive a reboot or a flushed ruleset; the record does.
  // Restoring them at start keeps running guests' outbound traffic working.
  const HelperState& state = service->store_.state();
  if (!state.nat.empty() || !state.ports.empty()) {
    BANGER_RETURN_IF_ERROR(EnableIpv4Forwarding());
    // Best effort: after a reboot the bridge is gone until ensure_bridge
    // makes it again, and the VM's next start (ports_set) sets it then.
    for (const PortRecord& r : state.ports) (void)service->PrepareBridgeFor(r);
    if (auto st = ApplyNatTable(service->runner(), state.nat, state.ports, state.bridges);
        !st.ok()) {
      return st.error().WithContext("restore NAT from the helper record");
    }
  }
  // A restarted helper (systemd's Restart=, an upgrade) answers names again
  // at once for bridges that outlived it, rather than at the next
  // ensure_bridge. Best effort: a bridge gone since (a reboot) gets its
  // resolver when ensure_bridge makes it again, and a failure here is
  // reported by that call.
  for (const BridgeRecord& bridge : state.bridges) {
    if (if_nametoindex(bridge.name.c_str()) != 0) (void)service->EnsureResolver(bridge);
  }
  return service;
}

Reply HelperService::HandleFrame(std::string_view frame, UniqueFd fd) {
  auto request = DecodeRequest(frame);
  if (!request.ok()) {
    return Reply{EncodeErrorResponse(request.error()), UniqueFd(), "", request.error().message()};
  }
  return Handle(*request, std::move(fd));
}

Reply HelperService::Handle(const Request& request, UniqueFd fd) {
  return std::visit(
      [&](const auto& q) -> Reply {
        using Q = std::decay_t<decltype(q)>;
        Reply reply;
        reply.op = Q::kOp;
        auto result = [&]() -> Result<typename Q::Response> {
          if constexpr (std::is_same_v<Q, JailStartRequest>) {
            return StartJail(q, std::move(fd));
          } else {
            if (fd.valid()) {
              return InvalidArgument(std::string("request ") + Quote(Q::kOp) +
                                     " carries a descriptor it does not take");
            }
            return Do(q, &reply.fd);
          }
        }();
        if (!result.ok()) {
          reply.fd.Reset();
          reply.frame = EncodeErrorResponse(result.error());
          reply.failure = result.error().message();
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
  if (auto st = ApplyNatTable(runner(), next, state.ports, state.bridges); !st.ok()) {
    return st.error().WithContext(what);
  }
  std::vector<NatRecord> previous = std::move(state.nat);
  state.nat = std::move(next);
  if (auto st = store_.Save(); !st.ok()) {
    state.nat = std::move(previous);
    // Best effort: the table follows the record.
    (void)ApplyNatTable(runner(), state.nat, state.ports, state.bridges);
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
  if (auto st = ApplyNatTable(runner(), next, state.ports, state.bridges); !st.ok()) {
    return st.error().WithContext(what);
  }
  std::vector<NatRecord> previous = std::move(state.nat);
  state.nat = std::move(next);
  if (auto st = store_.Save(); !st.ok()) {
    state.nat = std::move(previous);
    (void)ApplyNatTable(runner(), state.nat, state.ports, state.bridges);
    return st.error().WithContext(what);
  }
  return EmptyResponse{};
}

// ---- jailed Firecracker --------------------------------------------------------------

Status HelperService::RemoveJail(const JailRecord& jail) {
  std::string what = "remove the jail of vm " + Quote(jail.vm);
  if (ProcessAlive(static_cast<pid_t>(jail.pid), jail.start_ticks)) {
    if (auto st = KillProcess(static_cast<pid_t>(jail.pid), jail.start_ticks); !st.ok()) {
      return st.error().WithContext(what);
    }
  }
  // The jailed uid could write below root/; RemoveTree never follows the
  // symlinks it may have left there.
  if (auto st = RemoveTree(jail.dir); !st.ok()) return st.error().WithContext(what);
  return OkStatus();
}

Result<JailResponse> HelperService::StartJail(const JailStartRequest& q, UniqueFd console) {
  std::string what = "start the jail of vm " + Quote(q.vm);
  if (!config_.jailer) {
    return FailedPrecondition(what + ": this helper was started without --jailer; restart "
                                     "it with --jailer PATH --firecracker PATH");
  }
  if (!console.valid()) {
    return InvalidArgument(what + ": the request carries no console descriptor");
  }
  const JailerSetup& setup = *config_.jailer;
  const uid_t owner = config_.owner_uid;
  BANGER_ASSIGN_OR_RETURN(std::string id, JailId(owner, q.vm));
  const std::string dir = JailDir(setup, id);

  std::lock_guard lock(mu_);
  HelperState& state = store_.state();
  if (JailRecord* old = state.FindJail(q.vm)) {
    if (ProcessAlive(static_cast<pid_t>(old->pid), old->start_ticks)) {
      return Error(Code::kBusy, what + ": its jailed Firecracker (pid " +
                                    std::to_string(old->pid) + ") is still running");
    }
    BANGER_RETURN_IF_ERROR(RemoveJail(*old));
    state.jails.erase(state.jails.begin() + (old - state.jails.data()));
    BANGER_RETURN_IF_ERROR(store_.Save());
  }

  std::vector<JailFile> files = {{kJailKernel, q.kernel}};
  if (!q.initrd.empty()) files.push_back({kJailInitrd, q.initrd});
  for (const JailDrive& d : q.drives) files.push_back({JailDriveName(d.id), d.path});
  if (auto st = StageJail(dir, files, owner); !st.ok()) return st.error().WithContext(what);

  DetachedCommand command;
  command.argv = JailerArgv(setup, id, owner, OwnerGid(owner));
  command.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  command.stdout_fd = console.get();
  command.stderr_fd = console.get();
  auto pid = SpawnDetached(command);
  console.Reset();
  if (!pid.ok()) {
    (void)RemoveTree(dir);
    return pid.error().WithContext(what);
  }
  JailRecord record{q.vm, dir, static_cast<uint32_t>(*pid), ProcessStartTicks(*pid)};
  state.jails.push_back(record);
  if (auto saved = store_.Save(); !saved.ok()) {
    state.jails.pop_back();
    (void)RemoveJail(record);
    return saved.error().WithContext(what);
  }
  return JailResponse{record.pid, JoinPath(dir, "root")};
}

Result<EmptyResponse> HelperService::Do(const JailRemoveRequest& q, UniqueFd*) {
  std::lock_guard lock(mu_);
  HelperState& state = store_.state();
  JailRecord* rec = state.FindJail(q.vm);
  if (rec == nullptr) return EmptyResponse{};  // nothing of this VM's is jailed
  BANGER_RETURN_IF_ERROR(RemoveJail(*rec));
  state.jails.erase(state.jails.begin() + (rec - state.jails.data()));
  BANGER_RETURN_IF_ERROR(store_.Save());
  return EmptyResponse{};
}

}  // namespace banger::helper
