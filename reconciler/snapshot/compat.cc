#include "reconciler/snapshot/compat.h"

#include <cstdio>

namespace banger::snapshot {

std::string FormatBytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0 || v == static_cast<double>(static_cast<uint64_t>(v)))
    snprintf(buf, sizeof buf, "%llu %s", static_cast<unsigned long long>(v), units[u]);
  else
    snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

std::vector<std::string> Mismatches(const model::SnapshotMeta& m, const RestoreHost& h) {
  std::vector<std::string> out;
  auto differ = [&out](const char* what, const std::string& saved, const std::string& now,
                       const char* now_says) {
    if (saved != now)
      out.push_back(std::string(what) + ": saved with " + Quote(saved) + ", " + now_says + " " +
                    Quote(now));
  };
  differ("vmm", m.vmm, h.vmm, "this VM runs under");
  // The rest of the VMM facts only mean something for the same VMM.
  if (m.vmm == h.vmm) {
    differ("vmm version", m.vmm_version, h.vmm_version, "this host runs");
    differ("machine", m.machine, h.machine, "this host runs");
    differ("accelerator", m.accel, h.accel, "this host uses");
  }
  differ("kernel", m.kernel_digest, h.kernel_digest, "this VM boots");
  if (m.memory_bytes != h.memory_bytes)
    out.push_back("memory: saved with " + FormatBytes(m.memory_bytes) + ", this VM has " +
                  FormatBytes(h.memory_bytes));
  if (m.vcpus != h.vcpus)
    out.push_back("vcpus: saved with " + std::to_string(m.vcpus) + ", this VM has " +
                  std::to_string(h.vcpus));
  return out;
}

Status CheckCompatible(const model::SnapshotMeta& meta, const RestoreHost& host) {
  std::vector<std::string> found = Mismatches(meta, host);
  if (found.empty()) return OkStatus();
  std::string msg = "snapshot " + Quote(meta.name) + " cannot be restored here: ";
  for (size_t i = 0; i < found.size(); ++i) msg += (i ? "; " : "") + found[i];
  return FailedPrecondition(msg);
}

}  // namespace banger::snapshot
