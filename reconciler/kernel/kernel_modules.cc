#include "reconciler/kernel/kernel_modules.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <set>

#include "reconciler/kernel/decompress.h"
#include "reconciler/os/fs.h"

namespace banger::kernel {
namespace {

uint64_t LeN(std::string_view d, size_t off, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(d[off + i]);
  return v;
}

// "virtio_blk.ko.xz" -> "virtio_blk"; "" when not a module file name.
std::string ModuleNameFromFile(const std::string& file) {
  for (const char* suffix : {".ko", ".ko.xz", ".ko.zst", ".ko.gz"}) {
    size_t n = strlen(suffix);
    if (file.size() > n && file.compare(file.size() - n, n, suffix) == 0) {
      return NormalizeModuleName(file.substr(0, file.size() - n));
    }
  }
  return "";
}

}  // namespace

const std::vector<std::string>& GuestModuleNames() {
  static const std::vector<std::string> kNames = {
      "virtio",        "virtio_ring",    "virtio_mmio",
      "virtio_pci",    "virtio_pci_modern_dev", "virtio_pci_legacy_dev",
      "virtio_blk",    "virtio_net",     "net_failover",
      "failover",      "virtio_console", "vsock",
      "vmw_vsock_virtio_transport", "vmw_vsock_virtio_transport_common",
      // The ACPI power button and evdev let the guest's init see QMP's
      // system_powerdown, so `vm stop` shuts down cleanly instead of
      // waiting out the grace period.
      "button", "evdev",
  };
  return kNames;
}

std::string NormalizeModuleName(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c == '-') c = '_';
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> ReadModinfo(std::string_view elf) {
  if (elf.size() < 64 || elf.substr(0, 4) != "\x7f" "ELF") {
    return Error(Code::kCorruption, "not an ELF file");
  }
  if (elf[4] != 2 || elf[5] != 1) {
    return Error(Code::kCorruption, "not a little-endian 64-bit ELF");
  }
  const uint64_t shoff = LeN(elf, 0x28, 8);
  const uint64_t shentsize = LeN(elf, 0x3a, 2);
  const uint64_t shnum = LeN(elf, 0x3c, 2);
  const uint64_t shstrndx = LeN(elf, 0x3e, 2);
  if (shentsize < 64 || shstrndx >= shnum || shoff > elf.size() ||
      shnum * shentsize > elf.size() - shoff) {
    return Error(Code::kCorruption, "ELF section header table out of range");
  }
  auto section = [&](uint64_t i, uint64_t* off, uint64_t* size, uint64_t* name) {
    size_t base = shoff + i * shentsize;
    *name = LeN(elf, base, 4);
    *off = LeN(elf, base + 0x18, 8);
    *size = LeN(elf, base + 0x20, 8);
    return *off <= elf.size() && *size <= elf.size() - *off;
  };
  uint64_t str_off, str_size, unused;
  if (!section(shstrndx, &str_off, &str_size, &unused)) {
    return Error(Code::kCorruption, "ELF section name table out of range");
  }
  std::string_view names = elf.substr(str_off, str_size);
  for (uint64_t i = 0; i < shnum; ++i) {
    uint64_t off, size, name;
    if (!section(i, &off, &size, &name) || name >= names.size()) continue;
    std::string_view sname = names.substr(name);
    sname = sname.substr(0, sname.find('\0'));
    if (sname != ".modinfo") continue;
    std::vector<std::pair<std::string, std::string>> out;
    std::string_view data = elf.substr(off, size);
    while (!data.empty()) {
      size_t end = data.find('\0');
      std::string_view item = data.substr(0, end);
      data = end == std::string_view::npos ? std::string_view() : data.substr(end + 1);
      if (item.empty()) continue;  // padding between entries
      size_t eq = item.find('=');
      if (eq == std::string_view::npos) continue;
      out.emplace_back(std::string(item.substr(0, eq)), std::string(item.substr(eq + 1)));
    }
    return out;
  }
  return Error(Code::kCorruption, "ELF has no .modinfo section");
}

Result<std::vector<std::string>> ModuleDepends(std::string_view elf) {
  BANGER_ASSIGN_OR_RETURN(auto info, ReadModinfo(elf));
  std::vector<std::string> deps;
  for (const auto& [key, value] : info) {
    if (key != "depends") continue;
    size_t start = 0;
    while (start <= value.size()) {
      size_t comma = value.find(',', start);
      if (comma == std::string::npos) comma = value.size();
      if (comma > start) deps.push_back(NormalizeModuleName(value.substr(start, comma - start)));
      start = comma + 1;
    }
  }
  return deps;
}

Result<std::vector<std::string>> LoadOrder(
    const std::map<std::string, std::vector<std::string>>& depends,
    const std::vector<std::string>& roots) {
  enum class Mark { kNone, kVisiting, kDone };
  std::map<std::string, Mark> marks;
  std::vector<std::string> order;
  std::function<Status(const std::string&, const std::string&)> visit =
      [&](const std::string& name, const std::string& needed_by) -> Status {
    auto it = depends.find(name);
    if (it == depends.end()) {
      return NotFound("module " + Quote(name) +
                      (needed_by.empty() ? "" : " (needed by " + Quote(needed_by) + ")") +
                      " not found");
    }
    Mark& mark = marks[name];
    if (mark == Mark::kDone) return OkStatus();
    if (mark == Mark::kVisiting) {
      return Error(Code::kCorruption, "module dependency cycle through " + Quote(name));
    }
    mark = Mark::kVisiting;
    std::vector<std::string> deps = it->second;
    std::sort(deps.begin(), deps.end());
    for (const auto& dep : deps) BANGER_RETURN_IF_ERROR(visit(dep, name));
    marks[name] = Mark::kDone;
    order.push_back(name);
    return OkStatus();
  };
  std::vector<std::string> sorted_roots = roots;
  std::sort(sorted_roots.begin(), sorted_roots.end());
  for (const auto& root : sorted_roots) BANGER_RETURN_IF_ERROR(visit(root, ""));
  return order;
}

Result<std::vector<GuestModule>> CollectGuestModules(const std::string& modules_dir,
                                                     const std::vector<std::string>& wanted) {
  if (!IsDirectory(modules_dir)) return NotFound("modules directory " + Quote(modules_dir));
  std::map<std::string, std::string> files;  // name -> path
  std::error_code ec;
  std::filesystem::recursive_directory_iterator it(modules_dir, ec), end;
  if (ec) return Error(Code::kIo, "scan " + Quote(modules_dir) + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return Error(Code::kIo, "scan " + Quote(modules_dir) + ": " + ec.message());
    // Only real files: a module-named symlink (from a hostile bundle or
    // package) must not make banger read whatever it points at.
    if (!std::filesystem::is_regular_file(it->symlink_status(ec))) continue;
    std::string name = ModuleNameFromFile(it->path().filename().string());
    if (name.empty()) continue;
    // The first of several same-named files wins deterministically.
    auto [pos, inserted] = files.emplace(name, it->path().string());
    if (!inserted && it->path().string() < pos->second) pos->second = it->path().string();
  }

  std::map<std::string, GuestModule> loaded;
  std::map<std::string, std::vector<std::string>> graph;
  std::function<Status(const std::string&)> load = [&](const std::string& name) -> Status {
    if (loaded.count(name)) return OkStatus();
    auto f = files.find(name);
    if (f == files.end()) return OkStatus();  // LoadOrder reports missing dependencies
    BANGER_ASSIGN_OR_RETURN(std::string raw, ReadFile(f->second));
    BANGER_ASSIGN_OR_RETURN(std::string elf, ModuleBytes(std::move(raw), f->second));
    auto deps = ModuleDepends(elf);
    if (!deps.ok()) return deps.error().WithContext("module " + Quote(f->second));
    GuestModule m{name, f->second, std::move(elf), *deps};
    graph[name] = m.depends;
    loaded.emplace(name, std::move(m));
    for (const auto& dep : *deps) BANGER_RETURN_IF_ERROR(load(dep));
    return OkStatus();
  };
  std::vector<std::string> roots;
  for (const auto& w : wanted) {
    std::string name = NormalizeModuleName(w);
    if (!files.count(name)) continue;  // built into the kernel
    roots.push_back(name);
    BANGER_RETURN_IF_ERROR(load(name));
  }
  BANGER_ASSIGN_OR_RETURN(auto order, LoadOrder(graph, roots));
  std::vector<GuestModule> out;
  for (const auto& name : order) out.push_back(std::move(loaded.at(name)));
  return out;
}

}  // namespace banger::kernel
