// HelperService's bridge and tap operations.
#include <optional>

#include "helper/helper_service.h"
#include "helper/protocol/names.h"
#include "helper/rtnetlink.h"
#include "helper/tun_device.h"

namespace banger::helper {

namespace {

std::string NotCreated(const std::string& what) {
  return what + ": the helper did not create it";
}

}  // namespace

Result<EmptyResponse> HelperService::Do(const EnsureBridgeRequest& q, UniqueFd*) {
  std::string what = "ensure bridge " + Quote(q.name);
  BANGER_ASSIGN_OR_RETURN(Ipv4Cidr cidr, ParseInterfaceCidr(q.address));
  std::lock_guard lock(mu_);
  HelperState& state = store_.state();
  if (state.FindTap(q.name) != nullptr || pending_taps_.count(q.name)) {
    return Error(Code::kAlreadyExists, what + ": the name belongs to one of the helper's taps");
  }
  auto nl = Rtnetlink::Open();
  if (!nl.ok()) return nl.error().WithContext(what);
  BANGER_ASSIGN_OR_RETURN(std::optional<LinkInfo> link, nl->GetLink(q.name));
  BridgeRecord* rec = state.FindBridge(q.name);
  if (link && rec == nullptr) {
    return Error(Code::kPermissionDenied,
                 what + ": a link of that name exists and the helper did not create it; "
                        "remove it or choose another bridge name");
  }
  if (link && link->kind != "bridge") {
    return Error(Code::kFailedPrecondition,
                 what + ": the link is a " + Quote(link->kind) + ", not a bridge");
  }
  if (!link) {
    // Recorded first: a bridge that exists but is not in the record could
    // never be managed again.
    if (rec == nullptr) {
      state.bridges.push_back({q.name, q.address});
      if (auto st = store_.Save(); !st.ok()) {
        state.bridges.pop_back();
        return st.error().WithContext(what);
      }
      rec = &state.bridges.back();
    }
    if (auto st = nl->CreateBridge(q.name); !st.ok()) return st.error().WithContext(what);
    BANGER_ASSIGN_OR_RETURN(link, nl->GetLink(q.name));
    if (!link) return Internal(what + ": created but not found");
  }
  if (auto st = nl->ReplaceIpv4Addresses(link->index, cidr); !st.ok()) {
    return st.error().WithContext(what);
  }
  if (auto st = nl->SetUp(link->index); !st.ok()) return st.error().WithContext(what);
  if (rec->address != q.address) {
    rec->address = q.address;
    BANGER_RETURN_IF_ERROR(store_.Save());
  }
  // Guests are told the bridge address is their resolver: it must answer
  // before the first VM on the bridge boots.
  if (auto resolver = EnsureResolver(*rec); !resolver.ok())
    return resolver.error().WithContext(what);
  return EmptyResponse{};
}

Result<TapResponse> HelperService::Do(const CreateTapRequest& q, UniqueFd* fd_out) {
  std::string what = "create tap " + Quote(q.name);
  {
    std::lock_guard lock(mu_);
    HelperState& state = store_.state();
    if (state.FindBridge(q.bridge) == nullptr) {
      return Error(Code::kPermissionDenied, what + ": bridge " + Quote(q.bridge) +
                                                " was not created by the helper "
                                                "(ensure_bridge it first)");
    }
    if (state.FindTap(q.name) != nullptr || state.FindBridge(q.name) != nullptr ||
        pending_taps_.count(q.name)) {
      return Error(Code::kAlreadyExists, what + ": the helper already has a link of that name");
    }
    pending_taps_.insert(q.name);
  }
  // The slow part runs unlocked; the pending entry keeps the name reserved.
  struct Unreserve {
    HelperService* self;
    const std::string& name;
    ~Unreserve() {
      std::lock_guard lock(self->mu_);
      self->pending_taps_.erase(name);
    }
  } unreserve{this, q.name};

  auto nl = Rtnetlink::Open();
  if (!nl.ok()) return nl.error().WithContext(what);
  BANGER_ASSIGN_OR_RETURN(std::optional<LinkInfo> bridge, nl->GetLink(q.bridge));
  if (!bridge || bridge->kind != "bridge") {
    return Error(Code::kNotFound, what + ": bridge " + Quote(q.bridge) + " does not exist");
  }
  BANGER_ASSIGN_OR_RETURN(UniqueFd fd, CreatePersistentTap(q.name, config_.owner_uid));
  auto configure = [&]() -> Result<int> {
    BANGER_ASSIGN_OR_RETURN(std::optional<LinkInfo> tap, nl->GetLink(q.name));
    if (!tap) return Internal("created but not found");
    BANGER_RETURN_IF_ERROR(nl->SetMaster(tap->index, bridge->index));
    BANGER_RETURN_IF_ERROR(nl->SetUp(tap->index));
    return tap->index;
  };
  auto index = configure();
  if (!index.ok()) {
    // A tap made by us but not recorded must not survive.
    if (auto tap = nl->GetLink(q.name); tap.ok() && *tap) (void)nl->DeleteLink((*tap)->index);
    return index.error().WithContext(what);
  }
  {
    std::lock_guard lock(mu_);
    HelperState& state = store_.state();
    state.taps.push_back({q.name, q.bridge, ""});
    if (auto st = store_.Save(); !st.ok()) {
      state.taps.pop_back();
      (void)nl->DeleteLink(*index);
      return st.error().WithContext(what);
    }
  }
  *fd_out = std::move(fd);
  return TapResponse{q.name};
}

Result<TapResponse> HelperService::Do(const OpenTapRequest& q, UniqueFd* fd_out) {
  std::string what = "open tap " + Quote(q.name);
  {
    std::lock_guard lock(mu_);
    if (store_.state().FindTap(q.name) == nullptr) {
      return Error(Code::kPermissionDenied, NotCreated(what));
    }
  }
  auto nl = Rtnetlink::Open();
  if (!nl.ok()) return nl.error().WithContext(what);
  BANGER_ASSIGN_OR_RETURN(std::optional<LinkInfo> link, nl->GetLink(q.name));
  if (!link) return Error(Code::kNotFound, what + ": it no longer exists");
  if (link->kind != "tun") {
    return Error(Code::kPermissionDenied, what + ": the link is no longer a tap");
  }
  BANGER_ASSIGN_OR_RETURN(*fd_out, OpenTap(q.name));
  return TapResponse{q.name};
}

Result<EmptyResponse> HelperService::Do(const AssignTapRequest& q, UniqueFd*) {
  std::string what = "assign tap " + Quote(q.name) + " to " + Quote(q.vm);
  std::lock_guard lock(mu_);
  TapRecord* rec = store_.state().FindTap(q.name);
  if (rec == nullptr) return Error(Code::kPermissionDenied, NotCreated(what));
  if (rec->vm == q.vm) return EmptyResponse{};
  if (!rec->vm.empty()) {
    return Error(Code::kBusy, what + ": it is assigned to " + Quote(rec->vm));
  }
  rec->vm = q.vm;
  if (auto st = store_.Save(); !st.ok()) {
    rec->vm.clear();
    return st.error().WithContext(what);
  }
  return EmptyResponse{};
}

Result<EmptyResponse> HelperService::Do(const DeleteTapRequest& q, UniqueFd*) {
  std::string what = "delete tap " + Quote(q.name);
  std::lock_guard lock(mu_);
  HelperState& state = store_.state();
  TapRecord* rec = state.FindTap(q.name);
  if (rec == nullptr) return Error(Code::kPermissionDenied, NotCreated(what));
  auto nl = Rtnetlink::Open();
  if (!nl.ok()) return nl.error().WithContext(what);
  BANGER_ASSIGN_OR_RETURN(std::optional<LinkInfo> link, nl->GetLink(q.name));
  if (link && link->kind != "tun") {
    return Error(Code::kPermissionDenied,
                 what + ": the link of that name is no longer the helper's tap");
  }
  if (link) {
    if (auto st = nl->DeleteLink(link->index); !st.ok()) return st.error().WithContext(what);
  }
  state.taps.erase(state.taps.begin() + (rec - state.taps.data()));
  BANGER_RETURN_IF_ERROR(store_.Save());
  return EmptyResponse{};
}

Result<ListTapsResponse> HelperService::Do(const ListTapsRequest&, UniqueFd*) {
  std::lock_guard lock(mu_);
  HelperState& state = store_.state();
  BANGER_ASSIGN_OR_RETURN(Rtnetlink nl, Rtnetlink::Open());
  // Taps that vanished (deleted by hand, namespace gone) leave the record:
  // the helper could no longer act on them anyway.
  ListTapsResponse response;
  std::vector<TapRecord> kept;
  for (const TapRecord& tap : state.taps) {
    BANGER_ASSIGN_OR_RETURN(std::optional<LinkInfo> link, nl.GetLink(tap.name));
    if (!link || link->kind != "tun") continue;
    kept.push_back(tap);
    response.taps.push_back({tap.name, tap.bridge, tap.vm});
  }
  if (kept.size() != state.taps.size()) {
    state.taps = std::move(kept);
    BANGER_RETURN_IF_ERROR(store_.Save());
  }
  return response;
}

}  // namespace banger::helper
