#include "reconciler/plan/plan.h"

#include <algorithm>

namespace banger::plan {

std::string_view ActionName(Action a) {
  switch (a) {
    case Action::kNoOp: return "no-op";
    case Action::kCreate: return "create";
    case Action::kUpdate: return "update";
    case Action::kRestart: return "restart";
    case Action::kReplace: return "replace";
    case Action::kDelete: return "delete";
  }
  return "?";
}

std::string_view ActionSymbol(Action a) {
  switch (a) {
    case Action::kNoOp: return " ";
    case Action::kCreate: return "+";
    case Action::kUpdate: return "~";
    case Action::kRestart: return "!";
    case Action::kReplace: return "-/+";
    case Action::kDelete: return "-";
  }
  return "?";
}

std::string_view KindName(ResourceKind k) {
  switch (k) {
    case ResourceKind::kSettings: return "settings";
    case ResourceKind::kKernel: return "kernel";
    case ResourceKind::kImage: return "image";
    case ResourceKind::kFileSync: return "file_sync";
    case ResourceKind::kVm: return "vm";
    case ResourceKind::kSnapshot: return "snapshot";
  }
  return "?";
}

std::string Address(ResourceKind kind, std::string_view name) {
  std::string out(KindName(kind));
  if (!name.empty()) {
    out += '.';
    out += name;
  }
  return out;
}

Counts Plan::counts() const {
  Counts c;
  for (const auto& s : steps) {
    switch (s.action) {
      case Action::kCreate: ++c.create; break;
      case Action::kUpdate: ++c.update; break;
      case Action::kRestart: ++c.restart; break;
      case Action::kReplace: ++c.replace; break;
      case Action::kDelete: ++c.remove; break;
      case Action::kNoOp: break;
    }
  }
  return c;
}

bool Plan::has_destructive() const {
  return std::any_of(steps.begin(), steps.end(),
                     [](const Step& s) { return s.destructive(); });
}

const Step* Plan::Find(std::string_view address) const {
  for (const auto& s : steps) {
    if (s.address == address) return &s;
  }
  return nullptr;
}

}  // namespace banger::plan
