// [[vm]]: what to boot (image, kernel), its shape and its labels. Whether
// the image, kernel and file_sync names exist is decided later, once every
// file and the store are known.
#include <algorithm>

#include "reconciler/os/fs.h"
#include "specs/decoders.h"
#include "specs/port_spec.h"
#include "specs/value_rules.h"

namespace banger::specs {
namespace {

constexpr uint64_t kMinMemory = 128 * kMiB;
constexpr uint64_t kMinDisk = 64 * kMiB;
constexpr int kMaxVcpus = 64;
constexpr size_t kMaxPorts = 64;  // the helper's limit per VM

// A reference to another object by name.
std::optional<std::string> Reference(TableReader& t, std::string_view key, bool required = true) {
  std::optional<std::string> ref = t.String(key, required);
  if (!ref || !t.Check(key, CheckName(*ref))) return std::nullopt;
  return ref;
}

void DecodeLabels(TableReader& t, VmSpec* vm) {
  const toml::table* labels = t.Table("labels");
  if (!labels) return;
  TableReader reader(*labels, t.KeyPath("labels"), t.sink());
  for (auto&& [key, value] : *labels) {
    std::string k(key.str());
    std::string path = reader.KeyPath(k);
    t.sink()->Record(path, key.source().begin);
    if (Status st = CheckLabelKey(k); !st.ok()) {
      t.sink()->Error(key.source().begin, path, st.error().message());
      continue;
    }
    if (!value.is_string()) {
      t.sink()->Error(value.source().begin, path,
                      "expected a string, got " + TypeName(value));
      continue;
    }
    vm->labels[k] = value.as_string()->get();
  }
}

void DecodeFileSyncRefs(TableReader& t, VmSpec* vm) {
  auto refs = t.StringArray("file_sync");
  if (!refs) return;
  for (const auto& [index, ref] : *refs) {
    if (Status st = CheckName(ref); !st.ok()) {
      t.ElementError("file_sync", index, st.error().message());
      continue;
    }
    auto earlier = std::find(vm->file_sync.begin(), vm->file_sync.end(), ref);
    if (earlier != vm->file_sync.end()) {
      t.ElementError("file_sync", index, "file_sync entry " + Quote(ref) + " is listed twice");
      continue;
    }
    vm->file_sync.push_back(ref);
  }
}

void DecodePorts(TableReader& t, VmSpec* vm) {
  auto entries = t.StringArray("ports");
  if (!entries) return;
  if (entries->size() > kMaxPorts) {
    t.ValueError("ports", std::to_string(entries->size()) + " ports; at most " +
                              std::to_string(kMaxPorts) + " are allowed");
    return;
  }
  for (const auto& [index, text] : *entries) {
    auto port = ParsePortSpec(text);
    if (!port.ok()) {
      t.ElementError("ports", index, port.error().message());
      continue;
    }
    auto earlier = std::find_if(vm->ports.begin(), vm->ports.end(),
                                [&](const PortSpec& p) { return PortSpecsCollide(p, *port); });
    if (earlier != vm->ports.end()) {
      t.ElementError("ports", index,
                     Quote(text) + " claims the same host port as " +
                         Quote(FormatPortSpec(*earlier)));
      continue;
    }
    vm->ports.push_back(*port);
  }
}

// workspace = { repo, ref? }. The repository must be a directory now:
// finding out after the VM booted would leave a VM without its workspace.
void DecodeWorkspace(TableReader& t, const std::string& base_dir, VmSpec* vm) {
  const toml::table* table = t.Table("workspace");
  if (!table) return;
  TableReader w(*table, t.KeyPath("workspace"), t.sink());
  w.RejectUnknownKeys(KnownKeys().at("vm.workspace"));
  WorkspaceSpec ws;
  std::optional<std::string> repo = w.String("repo", /*required=*/true);
  if (repo && repo->empty()) {
    w.ValueError("repo", "must name a directory");
    repo.reset();
  }
  if (repo) {
    ws.repo = ResolveHostPath(*repo, base_dir);
    const std::string host = ExpandTilde(ws.repo, HomeDir());
    if (!PathExists(host)) {
      w.ValueError("repo", Quote(host) + " does not exist");
      repo.reset();
    } else if (!IsDirectory(host)) {
      w.ValueError("repo", Quote(host) + " is not a directory");
      repo.reset();
    }
  }
  if (auto ref = w.String("ref"); ref && w.Check("ref", CheckGitRef(*ref))) ws.ref = *ref;
  if (repo) vm->workspace = std::move(ws);
}

}  // namespace

std::optional<VmSpec> DecodeVm(TableReader& t, const std::string& base_dir) {
  VmSpec vm;
  std::optional<std::string> name = DecodeName(t, "vm");
  // A clone takes its image and kernel from the snapshot's source VM.
  if (auto snapshot = Reference(t, "from_snapshot", /*required=*/false))
    vm.from_snapshot = *snapshot;
  const bool clone = t.Has("from_snapshot");
  if (auto image = Reference(t, "image", !clone)) vm.image = *image;
  if (auto kernel = Reference(t, "kernel", !clone)) vm.kernel = *kernel;
  if (auto vcpus = t.Integer("vcpus")) {
    if (*vcpus < 1 || *vcpus > kMaxVcpus)
      t.ValueError("vcpus", "vcpus must be between 1 and " + std::to_string(kMaxVcpus) +
                                ", got " + std::to_string(*vcpus));
    else
      vm.vcpus = static_cast<int>(*vcpus);
  }
  if (auto memory = t.Size("memory", kMinMemory)) vm.memory = *memory;
  if (auto disk = t.Size("disk", kMinDisk)) vm.disk = *disk;
  if (auto nat = t.Bool("nat")) vm.nat = *nat;
  if (auto keep = t.Bool("keep_work_disk")) vm.keep_work_disk = *keep;
  DecodeFileSyncRefs(t, &vm);
  DecodeLabels(t, &vm);
  DecodePorts(t, &vm);
  DecodeWorkspace(t, base_dir, &vm);
  if (auto restart = t.String("restart")) {
    if (auto policy = ParseRestartPolicy(*restart))
      vm.restart = *policy;
    else
      t.ValueError("restart", "must be \"always\", \"on-failure\" or \"never\", got " +
                                  Quote(*restart));
  }
  if (!name) return std::nullopt;
  vm.name = *name;
  return vm;
}

std::optional<SnapshotSpec> DecodeSnapshot(TableReader& t) {
  SnapshotSpec snapshot;
  std::optional<std::string> name = DecodeName(t, "snapshot");
  if (auto vm = Reference(t, "vm")) snapshot.vm = *vm;
  if (!name) return std::nullopt;
  snapshot.name = *name;
  return snapshot;
}

}  // namespace banger::specs
