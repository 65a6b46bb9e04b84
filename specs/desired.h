// Desired state: what the user declared in TOML, typed and validated.
//
// These types describe intent only. What banger built and converged lives in
// reconciler/model (records, kept in SQLite) and what is running right now in
// handles (rediscovered from the OS). Sizes are bytes; paths on the host are
// absolute (relative paths in a file are resolved against that file's
// directory); `~` is kept as written and expanded when used.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "specs/port_spec.h"

namespace banger::specs {

struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
  // "file:line:col" (or just "file" when no position is known).
  std::string ToString() const;
};

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;
constexpr uint64_t kGiB = 1024 * kMiB;

struct Settings {
  std::string bridge = "bg0";
  std::string subnet = "172.30.0.0/24";  // host takes the first address
  std::string vmm = "auto";               // auto | qemu | firecracker
  bool jailer = false;                    // Firecracker through its jailer (vmm = firecracker)
  std::string state_dir;                  // empty: $XDG_STATE_HOME/banger
  std::string kernel_catalog;             // extra catalog file; empty: none
  // Caps on what one image build may unpack (OCI layers, tar sources): a
  // hostile or broken image fails the build instead of filling the disk.
  uint64_t image_max_size = 64 * kGiB;    // uncompressed bytes, all layers
  uint64_t image_max_files = 2'000'000;   // archive entries, all layers
  // The daemon: how often it observes the host, and whether it may delete
  // and replace on its own (otherwise it reports such steps and waits).
  int daemon_interval = 10;               // seconds
  bool daemon_destructive = false;
  SourceLocation where;

  bool operator==(const Settings& o) const {
    return bridge == o.bridge && subnet == o.subnet && vmm == o.vmm && jailer == o.jailer &&
           state_dir == o.state_dir && kernel_catalog == o.kernel_catalog &&
           image_max_size == o.image_max_size && image_max_files == o.image_max_files &&
           daemon_interval == o.daemon_interval && daemon_destructive == o.daemon_destructive;
  }
};

enum class KernelSource { kDeb, kPath, kUrl, kCatalog };

struct KernelSpec {
  std::string name;
  KernelSource source = KernelSource::kDeb;
  std::string deb;           // Debian package name, e.g. linux-image-cloud-amd64
  std::string path_kernel;   // path = { kernel, initrd?, modules? }
  std::string path_initrd;
  std::string path_modules;
  std::string url;           // url + sha256 of a .tar.zst bundle
  std::string sha256;
  std::string catalog;       // catalog entry name
  SourceLocation where;

  bool operator==(const KernelSpec& o) const {
    return name == o.name && source == o.source && deb == o.deb &&
           path_kernel == o.path_kernel && path_initrd == o.path_initrd &&
           path_modules == o.path_modules && url == o.url && sha256 == o.sha256 &&
           catalog == o.catalog;
  }
};

enum class ImageSource { kOci, kDir, kTar, kDebootstrap };

struct ImageSpec {
  std::string name;
  ImageSource source = ImageSource::kDir;
  std::string oci;                   // registry reference
  std::string platform = "linux/amd64";  // OCI platform to select
  bool insecure = false;             // allow plain http to a non-loopback registry
  std::string dir;                   // directory tree
  std::string tar;                   // tarball
  std::string suite;                 // debootstrap = { suite, mirror?, include? }
  std::string mirror;
  std::vector<std::string> include;
  std::optional<uint64_t> size;      // rootfs size; unset: content + headroom
  SourceLocation where;

  bool operator==(const ImageSpec& o) const {
    return name == o.name && source == o.source && oci == o.oci &&
           platform == o.platform && insecure == o.insecure && dir == o.dir &&
           tar == o.tar && suite == o.suite && mirror == o.mirror &&
           include == o.include && size == o.size;
  }
};

struct FileSyncSpec {
  std::string name;
  std::string host;               // host path, may start with ~
  std::string guest;              // guest path under /root, may start with ~
  std::optional<uint32_t> mode;   // unset: 0600 for files, own modes in dirs
  SourceLocation where;

  bool operator==(const FileSyncSpec& o) const {
    return name == o.name && host == o.host && guest == o.guest && mode == o.mode;
  }
};

// A repository imported into the VM's /root/repo once the guest is ready
// (`workspace = { repo = "~/src/app", ref = "main" }` on a [[vm]]).
struct WorkspaceSpec {
  std::string repo;  // host directory, absolute or starting with ~
  // "" imports HEAD with the host's working tree laid over it; otherwise a
  // branch of the repository, or else any commit-ish, whose files alone
  // are imported.
  std::string ref;

  bool operator==(const WorkspaceSpec& o) const { return repo == o.repo && ref == o.ref; }
};

// What the daemon does when a VM's VMM is gone while it should run:
// always repair, repair unless the guest powered itself off, or leave it.
enum class RestartPolicy { kAlways, kOnFailure, kNever };

std::string_view RestartPolicyName(RestartPolicy p);  // "always", "on-failure", "never"
std::optional<RestartPolicy> ParseRestartPolicy(std::string_view text);

struct VmSpec {
  std::string name;
  // A VM with from_snapshot starts by restoring that [[snapshot]] instead of
  // booting. Its image, kernel, vcpus, memory and disk are the snapshot's
  // source VM's (the loader fills them in; writing other values is an error).
  std::string from_snapshot;
  std::string image;
  std::string kernel;
  int vcpus = 2;
  uint64_t memory = 1 * kGiB;
  uint64_t disk = 4 * kGiB;       // size of the /root work disk
  bool nat = false;
  bool keep_work_disk = true;     // keep /root across replace
  std::vector<std::string> file_sync;
  std::map<std::string, std::string> labels;
  std::vector<PortSpec> ports;    // published host ports, in spec order
  RestartPolicy restart = RestartPolicy::kAlways;
  std::optional<WorkspaceSpec> workspace;
  SourceLocation where;

  bool operator==(const VmSpec& o) const {
    return name == o.name && from_snapshot == o.from_snapshot && image == o.image &&
           kernel == o.kernel && vcpus == o.vcpus && memory == o.memory && disk == o.disk &&
           nat == o.nat && keep_work_disk == o.keep_work_disk &&
           file_sync == o.file_sync && labels == o.labels && ports == o.ports &&
           restart == o.restart && workspace == o.workspace;
  }
};

// A point-in-time copy of a declared VM (memory, devices, disks), taken once
// that VM is ready; VMs name it in from_snapshot to start from it.
struct SnapshotSpec {
  std::string name;
  std::string vm;  // the source VM, declared in the spec files
  SourceLocation where;

  bool operator==(const SnapshotSpec& o) const { return name == o.name && vm == o.vm; }
};

struct DesiredState {
  std::vector<std::string> files;  // the spec files read, in order
  Settings settings;
  bool has_settings = false;       // a [settings] table was present
  std::vector<KernelSpec> kernels;
  std::vector<ImageSpec> images;
  std::vector<FileSyncSpec> file_syncs;
  std::vector<VmSpec> vms;
  std::vector<SnapshotSpec> snapshots;

  const KernelSpec* FindKernel(const std::string& name) const;
  const ImageSpec* FindImage(const std::string& name) const;
  const FileSyncSpec* FindFileSync(const std::string& name) const;
  const VmSpec* FindVm(const std::string& name) const;
  const SnapshotSpec* FindSnapshot(const std::string& name) const;
};

std::string_view KernelSourceName(KernelSource s);
std::string_view ImageSourceName(ImageSource s);

}  // namespace banger::specs
