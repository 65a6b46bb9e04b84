#include "specs/spec_json.h"

#include <cstdint>
#include <limits>
#include <set>
#include <string_view>
#include <utility>

namespace banger::specs {
namespace {

using nlohmann::json;

// Each Decode returns an empty view on success, else what was expected.
std::string_view Decode(const json& v, std::string& out) {
  if (!v.is_string()) return "a string";
  out = v.get_ref<const std::string&>();
  return {};
}

std::string_view Decode(const json& v, bool& out) {
  if (!v.is_boolean()) return "a boolean";
  out = v.get<bool>();
  return {};
}

// nlohmann keeps non-negative literals as unsigned, but values built in code
// from signed integers are number_integer; both are accepted when in range.
bool AsUnsigned(const json& v, uint64_t& out) {
  if (v.is_number_unsigned()) {
    out = v.get<uint64_t>();
    return true;
  }
  if (v.is_number_integer() && v.get<int64_t>() >= 0) {
    out = static_cast<uint64_t>(v.get<int64_t>());
    return true;
  }
  return false;
}

std::string_view Decode(const json& v, uint64_t& out) {
  if (!AsUnsigned(v, out)) return "a non-negative integer";
  return {};
}

std::string_view Decode(const json& v, uint32_t& out) {
  uint64_t wide = 0;
  if (!AsUnsigned(v, wide) || wide > std::numeric_limits<uint32_t>::max())
    return "an integer between 0 and 4294967295";
  out = static_cast<uint32_t>(wide);
  return {};
}

std::string_view Decode(const json& v, int& out) {
  if (!v.is_number_integer()) return "an integer";
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int>::max())) return "an int-sized integer";
    out = static_cast<int>(u);
    return {};
  }
  int64_t s = v.get<int64_t>();
  if (s < std::numeric_limits<int>::min() || s > std::numeric_limits<int>::max())
    return "an int-sized integer";
  out = static_cast<int>(s);
  return {};
}

std::string_view Decode(const json& v, std::vector<std::string>& out) {
  if (!v.is_array()) return "an array of strings";
  std::vector<std::string> items;
  for (const json& item : v) {
    if (!item.is_string()) return "an array of strings";
    items.push_back(item.get<std::string>());
  }
  out = std::move(items);
  return {};
}

std::string_view Decode(const json& v, std::map<std::string, std::string>& out) {
  if (!v.is_object()) return "an object of strings";
  std::map<std::string, std::string> items;
  for (const auto& [key, value] : v.items()) {
    if (!value.is_string()) return "an object of strings";
    items[key] = value.get<std::string>();
  }
  out = std::move(items);
  return {};
}

template <typename T>
std::string_view Decode(const json& v, std::optional<T>& out) {
  T inner{};
  std::string_view expected = Decode(v, inner);
  if (expected.empty()) out = std::move(inner);
  return expected;
}

// Reads the fields of one JSON object, remembering which were consumed so
// that Finish() can reject the ones nobody asked for: a stored spec with a
// field this binary does not know is data it would silently drop.
class ObjectReader {
 public:
  ObjectReader(const json& j, std::string what) : j_(j), what_(std::move(what)) {}

  Status CheckObject() const {
    if (j_.is_object()) return OkStatus();
    return Fail("expected an object, got " + std::string(j_.type_name()));
  }

  // For fields whose content the caller decodes itself.
  void Known(const char* key) { seen_.insert(key); }

  // Names the object in later messages once its name is known.
  void Rename(std::string what) { what_ = std::move(what); }

  template <typename T>
  Status Required(const char* key, T& out) {
    seen_.insert(key);
    auto it = j_.find(key);
    if (it == j_.end()) return Fail("missing field " + Quote(key));
    return Check(key, *it, Decode(*it, out));
  }

  // An absent field leaves `out` as it was (its empty/unset value).
  template <typename T>
  Status Optional(const char* key, T& out) {
    seen_.insert(key);
    auto it = j_.find(key);
    if (it == j_.end()) return OkStatus();
    return Check(key, *it, Decode(*it, out));
  }

  Status Finish() const {
    for (const auto& item : j_.items()) {
      if (!seen_.count(item.key())) return Fail("unknown field " + Quote(item.key()));
    }
    return OkStatus();
  }

  Error Fail(const std::string& message) const {
    return Error(Code::kCorruption, what_ + ": " + message);
  }

 private:
  Status Check(const char* key, const json& v, std::string_view expected) const {
    if (expected.empty()) return OkStatus();
    return Fail("field " + Quote(key) + ": expected " + std::string(expected) + ", got " +
                std::string(v.type_name()));
  }

  const json& j_;
  std::string what_;
  std::set<std::string> seen_;
};

void PutIfSet(json& j, const char* key, const std::string& value) {
  if (!value.empty()) j[key] = value;
}

template <typename Enum, size_t N>
Status DecodeEnum(ObjectReader& r, const char* key, const Enum (&all)[N],
                  std::string_view (*name_of)(Enum), Enum& out) {
  std::string text;
  BANGER_RETURN_IF_ERROR(r.Required(key, text));
  std::string choices;
  for (Enum e : all) {
    if (name_of(e) == text) {
      out = e;
      return OkStatus();
    }
    if (!choices.empty()) choices += ", ";
    choices += name_of(e);
  }
  return r.Fail("field " + Quote(key) + ": unknown value " + Quote(text) + " (expected one of " +
                choices + ")");
}

constexpr KernelSource kKernelSources[] = {KernelSource::kDeb, KernelSource::kPath,
                                           KernelSource::kUrl, KernelSource::kCatalog};
constexpr ImageSource kImageSources[] = {ImageSource::kOci, ImageSource::kDir,
                                         ImageSource::kTar, ImageSource::kDebootstrap};

// Reads "name" first so every later message names the object.
Status ReadName(ObjectReader& r, std::string_view kind, std::string& name) {
  BANGER_RETURN_IF_ERROR(r.CheckObject());
  BANGER_RETURN_IF_ERROR(r.Required("name", name));
  r.Rename(std::string(kind) + " " + Quote(name));
  return OkStatus();
}

template <typename T>
Status DecodeList(ObjectReader& r, const json& j, const char* key,
                  Result<T> (*decode_one)(const json&), std::vector<T>& out) {
  auto it = j.find(key);
  if (it == j.end()) return r.Fail("missing field " + Quote(key));
  if (!it->is_array())
    return r.Fail("field " + Quote(key) + ": expected an array, got " + it->type_name());
  for (size_t i = 0; i < it->size(); ++i) {
    Result<T> item = decode_one((*it)[i]);
    if (!item.ok()) {
      return r.Fail(std::string(key) + "[" + std::to_string(i) + "]: " + item.error().message());
    }
    out.push_back(std::move(item).value());
  }
  return OkStatus();
}

}  // namespace

json ToJson(const Settings& s) {
  json j = json::object();
  j["bridge"] = s.bridge;
  j["subnet"] = s.subnet;
  j["vmm"] = s.vmm;
  j["jailer"] = s.jailer;
  PutIfSet(j, "state_dir", s.state_dir);
  PutIfSet(j, "kernel_catalog", s.kernel_catalog);
  j["image_max_size"] = s.image_max_size;
  j["image_max_files"] = s.image_max_files;
  j["daemon_interval"] = s.daemon_interval;
  j["daemon_destructive"] = s.daemon_destructive;
  return j;
}

json ToJson(const KernelSpec& k) {
  json j = json::object();
  j["name"] = k.name;
  j["source"] = KernelSourceName(k.source);
  PutIfSet(j, "deb", k.deb);
  PutIfSet(j, "path_kernel", k.path_kernel);
  PutIfSet(j, "path_initrd", k.path_initrd);
  PutIfSet(j, "path_modules", k.path_modules);
  PutIfSet(j, "url", k.url);
  PutIfSet(j, "sha256", k.sha256);
  PutIfSet(j, "catalog", k.catalog);
  return j;
}

json ToJson(const ImageSpec& i) {
  json j = json::object();
  j["name"] = i.name;
  j["source"] = ImageSourceName(i.source);
  PutIfSet(j, "oci", i.oci);
  j["platform"] = i.platform;
  j["insecure"] = i.insecure;
  PutIfSet(j, "dir", i.dir);
  PutIfSet(j, "tar", i.tar);
  PutIfSet(j, "suite", i.suite);
  PutIfSet(j, "mirror", i.mirror);
  if (!i.include.empty()) j["include"] = i.include;
  if (i.size) j["size"] = *i.size;
  return j;
}

json ToJson(const FileSyncSpec& f) {
  json j = json::object();
  j["name"] = f.name;
  j["host"] = f.host;
  j["guest"] = f.guest;
  if (f.mode) j["mode"] = *f.mode;
  return j;
}

json ToJson(const VmSpec& v) {
  json j = json::object();
  j["name"] = v.name;
  // Only clones carry it, so the records of other VMs read as before.
  if (!v.from_snapshot.empty()) j["from_snapshot"] = v.from_snapshot;
  j["image"] = v.image;
  j["kernel"] = v.kernel;
  j["vcpus"] = v.vcpus;
  j["memory"] = v.memory;
  j["disk"] = v.disk;
  j["nat"] = v.nat;
  j["keep_work_disk"] = v.keep_work_disk;
  j["file_sync"] = v.file_sync;
  j["labels"] = v.labels;
  j["ports"] = json::array();
  for (const PortSpec& p : v.ports) j["ports"].push_back(FormatPortSpec(p));
  j["restart"] = std::string(RestartPolicyName(v.restart));
  if (v.workspace) j["workspace"] = json{{"repo", v.workspace->repo}, {"ref", v.workspace->ref}};
  return j;
}

json ToJson(const DesiredState& d) {
  json j = json::object();
  j["files"] = d.files;
  j["has_settings"] = d.has_settings;
  j["settings"] = ToJson(d.settings);
  j["kernels"] = json::array();
  for (const auto& k : d.kernels) j["kernels"].push_back(ToJson(k));
  j["images"] = json::array();
  for (const auto& i : d.images) j["images"].push_back(ToJson(i));
  j["file_syncs"] = json::array();
  for (const auto& f : d.file_syncs) j["file_syncs"].push_back(ToJson(f));
  j["vms"] = json::array();
  for (const auto& v : d.vms) j["vms"].push_back(ToJson(v));
  j["snapshots"] = json::array();
  for (const auto& s : d.snapshots) j["snapshots"].push_back(ToJson(s));
  return j;
}

json ToJson(const SnapshotSpec& s) {
  json j = json::object();
  j["name"] = s.name;
  j["vm"] = s.vm;
  return j;
}

Result<Settings> SettingsFromJson(const json& j) {
  ObjectReader r(j, "settings");
  BANGER_RETURN_IF_ERROR(r.CheckObject());
  Settings s;
  BANGER_RETURN_IF_ERROR(r.Required("bridge", s.bridge));
  BANGER_RETURN_IF_ERROR(r.Required("subnet", s.subnet));
  BANGER_RETURN_IF_ERROR(r.Required("vmm", s.vmm));
  BANGER_RETURN_IF_ERROR(r.Optional("state_dir", s.state_dir));
  BANGER_RETURN_IF_ERROR(r.Optional("kernel_catalog", s.kernel_catalog));
  // Optional: records written before these settings existed lack them and
  // keep the defaults.
  BANGER_RETURN_IF_ERROR(r.Optional("image_max_size", s.image_max_size));
  BANGER_RETURN_IF_ERROR(r.Optional("image_max_files", s.image_max_files));
  BANGER_RETURN_IF_ERROR(r.Optional("jailer", s.jailer));
  BANGER_RETURN_IF_ERROR(r.Optional("daemon_interval", s.daemon_interval));
  BANGER_RETURN_IF_ERROR(r.Optional("daemon_destructive", s.daemon_destructive));
  BANGER_RETURN_IF_ERROR(r.Finish());
  return s;
}

Result<KernelSpec> KernelFromJson(const json& j) {
  ObjectReader r(j, "kernel");
  KernelSpec k;
  BANGER_RETURN_IF_ERROR(ReadName(r, "kernel", k.name));
  BANGER_RETURN_IF_ERROR(DecodeEnum(r, "source", kKernelSources, &KernelSourceName, k.source));
  BANGER_RETURN_IF_ERROR(r.Optional("deb", k.deb));
  BANGER_RETURN_IF_ERROR(r.Optional("path_kernel", k.path_kernel));
  BANGER_RETURN_IF_ERROR(r.Optional("path_initrd", k.path_initrd));
  BANGER_RETURN_IF_ERROR(r.Optional("path_modules", k.path_modules));
  BANGER_RETURN_IF_ERROR(r.Optional("url", k.url));
  BANGER_RETURN_IF_ERROR(r.Optional("sha256", k.sha256));
  BANGER_RETURN_IF_ERROR(r.Optional("catalog", k.catalog));
  BANGER_RETURN_IF_ERROR(r.Finish());
  return k;
}

Result<ImageSpec> ImageFromJson(const json& j) {
  ObjectReader r(j, "image");
  ImageSpec i;
  BANGER_RETURN_IF_ERROR(ReadName(r, "image", i.name));
  BANGER_RETURN_IF_ERROR(DecodeEnum(r, "source", kImageSources, &ImageSourceName, i.source));
  BANGER_RETURN_IF_ERROR(r.Optional("oci", i.oci));
  BANGER_RETURN_IF_ERROR(r.Required("platform", i.platform));
  BANGER_RETURN_IF_ERROR(r.Required("insecure", i.insecure));
  BANGER_RETURN_IF_ERROR(r.Optional("dir", i.dir));
  BANGER_RETURN_IF_ERROR(r.Optional("tar", i.tar));
  BANGER_RETURN_IF_ERROR(r.Optional("suite", i.suite));
  BANGER_RETURN_IF_ERROR(r.Optional("mirror", i.mirror));
  BANGER_RETURN_IF_ERROR(r.Optional("include", i.include));
  BANGER_RETURN_IF_ERROR(r.Optional("size", i.size));
  BANGER_RETURN_IF_ERROR(r.Finish());
  return i;
}

Result<FileSyncSpec> FileSyncFromJson(const json& j) {
  ObjectReader r(j, "file_sync");
  FileSyncSpec f;
  BANGER_RETURN_IF_ERROR(ReadName(r, "file_sync", f.name));
  BANGER_RETURN_IF_ERROR(r.Required("host", f.host));
  BANGER_RETURN_IF_ERROR(r.Required("guest", f.guest));
  BANGER_RETURN_IF_ERROR(r.Optional("mode", f.mode));
  BANGER_RETURN_IF_ERROR(r.Finish());
  return f;
}

Result<VmSpec> VmFromJson(const json& j) {
  ObjectReader r(j, "vm");
  VmSpec v;
  BANGER_RETURN_IF_ERROR(ReadName(r, "vm", v.name));
  BANGER_RETURN_IF_ERROR(r.Optional("from_snapshot", v.from_snapshot));
  BANGER_RETURN_IF_ERROR(r.Required("image", v.image));
  BANGER_RETURN_IF_ERROR(r.Required("kernel", v.kernel));
  BANGER_RETURN_IF_ERROR(r.Required("vcpus", v.vcpus));
  BANGER_RETURN_IF_ERROR(r.Required("memory", v.memory));
  BANGER_RETURN_IF_ERROR(r.Required("disk", v.disk));
  BANGER_RETURN_IF_ERROR(r.Required("nat", v.nat));
  BANGER_RETURN_IF_ERROR(r.Required("keep_work_disk", v.keep_work_disk));
  BANGER_RETURN_IF_ERROR(r.Required("file_sync", v.file_sync));
  BANGER_RETURN_IF_ERROR(r.Required("labels", v.labels));
  // Optional: records written before published ports existed lack it.
  std::vector<std::string> ports;
  BANGER_RETURN_IF_ERROR(r.Optional("ports", ports));
  // Optional: records written before restart policies existed lack it.
  std::string restart(RestartPolicyName(RestartPolicy::kAlways));
  BANGER_RETURN_IF_ERROR(r.Optional("restart", restart));
  // Optional: present only for VMs with a workspace.
  r.Known("workspace");
  BANGER_RETURN_IF_ERROR(r.Finish());
  if (auto it = j.find("workspace"); it != j.end()) {
    ObjectReader w(*it, "vm " + Quote(v.name) + ": workspace");
    BANGER_RETURN_IF_ERROR(w.CheckObject());
    WorkspaceSpec ws;
    BANGER_RETURN_IF_ERROR(w.Required("repo", ws.repo));
    BANGER_RETURN_IF_ERROR(w.Required("ref", ws.ref));
    BANGER_RETURN_IF_ERROR(w.Finish());
    v.workspace = std::move(ws);
  }
  if (auto policy = ParseRestartPolicy(restart))
    v.restart = *policy;
  else
    return Error(Code::kCorruption, "vm " + Quote(v.name) + ": restart: unknown policy " + Quote(restart));
  for (const std::string& text : ports) {
    auto port = ParsePortSpec(text);
    if (!port.ok()) {
      return Error(Code::kCorruption,
                   "vm " + Quote(v.name) + ": ports: " + port.error().message());
    }
    v.ports.push_back(*port);
  }
  return v;
}

Result<SnapshotSpec> SnapshotFromJson(const json& j) {
  ObjectReader r(j, "snapshot");
  SnapshotSpec s;
  BANGER_RETURN_IF_ERROR(ReadName(r, "snapshot", s.name));
  BANGER_RETURN_IF_ERROR(r.Required("vm", s.vm));
  BANGER_RETURN_IF_ERROR(r.Finish());
  return s;
}

Result<DesiredState> DesiredFromJson(const json& j) {
  ObjectReader r(j, "desired state");
  BANGER_RETURN_IF_ERROR(r.CheckObject());
  DesiredState d;
  BANGER_RETURN_IF_ERROR(r.Required("files", d.files));
  BANGER_RETURN_IF_ERROR(r.Required("has_settings", d.has_settings));
  for (const char* key : {"settings", "kernels", "images", "file_syncs", "vms", "snapshots"})
    r.Known(key);
  auto settings = j.find("settings");
  if (settings == j.end()) return r.Fail("missing field 'settings'");
  Result<Settings> s = SettingsFromJson(*settings);
  if (!s.ok()) return r.Fail(s.error().message());
  d.settings = std::move(s).value();
  BANGER_RETURN_IF_ERROR(DecodeList(r, j, "kernels", &KernelFromJson, d.kernels));
  BANGER_RETURN_IF_ERROR(DecodeList(r, j, "images", &ImageFromJson, d.images));
  BANGER_RETURN_IF_ERROR(DecodeList(r, j, "file_syncs", &FileSyncFromJson, d.file_syncs));
  BANGER_RETURN_IF_ERROR(DecodeList(r, j, "vms", &VmFromJson, d.vms));
  // Optional: plans saved before snapshots existed lack it.
  if (j.contains("snapshots"))
    BANGER_RETURN_IF_ERROR(DecodeList(r, j, "snapshots", &SnapshotFromJson, d.snapshots));
  BANGER_RETURN_IF_ERROR(r.Finish());
  return d;
}

}  // namespace banger::specs
