// The top level of a spec document, [settings] and [[file_sync]], and the
// key lists of every table.
#include <algorithm>

#include "specs/decoders.h"
#include "specs/did_you_mean.h"
#include "specs/value_rules.h"

namespace banger::specs {
namespace {

const std::vector<std::string>& Keys(const std::string& table) {
  return KnownKeys().at(table);
}

// Runs `decode` on each table of the array `kind` ([[kind]]), appending what
// it returns to `out`.
template <typename Spec, typename Decode>
void DecodeArray(const toml::table& root, const std::string& kind, DiagnosticSink* sink,
                 std::vector<Spec>* out, Decode decode) {
  auto it = root.find(kind);
  if (it == root.end()) return;
  const toml::array* array = it->second.as_array();
  if (!array) {
    sink->Error(it->second.source().begin, kind,
                "expected an array of tables ([[" + kind + "]]), got " + TypeName(it->second));
    return;
  }
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& el = (*array)[i];
    std::string path = kind + "[" + std::to_string(i) + "]";
    const toml::table* table = el.as_table();
    if (!table) {
      sink->Error(el.source().begin, path, "expected a table, got " + TypeName(el));
      continue;
    }
    TableReader reader(*table, path, sink);
    std::optional<Spec> spec = decode(reader);
    // After decoding, so the reader is named "vm.web" rather than "vm[0]".
    reader.RejectUnknownKeys(Keys(kind));
    if (spec) {
      spec->where = reader.Header();
      out->push_back(std::move(*spec));
    }
  }
}

// image_max_size and image_max_files. Zero is refused rather than read as
// "no limit": a cap of nothing would fail every build with a confusing error.
void DecodeImageLimits(TableReader& t, Settings& s) {
  if (auto size = t.Size("image_max_size", 0)) {
    if (*size == 0)
      t.ValueError("image_max_size", "must be greater than 0");
    else
      s.image_max_size = *size;
  }
  if (auto files = t.Integer("image_max_files")) {
    if (*files < 1)
      t.ValueError("image_max_files", "must be at least 1, got " + std::to_string(*files));
    else
      s.image_max_files = static_cast<uint64_t>(*files);
  }
}

}  // namespace

// Decoders reject any key not listed here, and a unit test holds
// schemas/banger.schema.json to the same lists.
const std::map<std::string, std::vector<std::string>>& KnownKeys() {
  static const auto* keys = new std::map<std::string, std::vector<std::string>>{
      {"", {"settings", "kernel", "image", "file_sync", "vm", "snapshot"}},
      {"settings",
       {"bridge", "subnet", "vmm", "jailer", "state_dir", "kernel_catalog", "image_max_size",
        "image_max_files", "daemon_interval", "daemon_destructive"}},
      {"kernel", {"name", "deb", "path", "url", "sha256", "catalog"}},
      {"kernel.path", {"kernel", "initrd", "modules"}},
      {"image", {"name", "oci", "platform", "insecure", "dir", "tar", "debootstrap", "size"}},
      {"image.debootstrap", {"suite", "mirror", "include"}},
      {"file_sync", {"name", "host", "guest", "mode"}},
      {"vm",
       {"name", "from_snapshot", "image", "kernel", "vcpus", "memory", "disk", "nat",
        "keep_work_disk", "ports", "restart", "file_sync", "labels", "workspace"}},
      {"vm.workspace", {"repo", "ref"}},
      {"snapshot", {"name", "vm"}},
  };
  return *keys;
}

std::optional<std::string> DecodeName(TableReader& t, std::string_view kind) {
  std::optional<std::string> name = t.String("name", /*required=*/true);
  if (!name || !t.Check("name", CheckName(*name))) return std::nullopt;
  t.SetPath(std::string(kind) + "." + *name);
  return name;
}

DecodedDocument DecodeDocument(const toml::table& root, const std::string& base_dir,
                               DiagnosticSink* sink) {
  DecodedDocument doc;
  TableReader top(root, "", sink);
  top.RejectUnknownKeys(Keys(""));

  if (const toml::node* node = root.get("settings")) {
    if (const toml::table* table = node->as_table()) {
      TableReader reader(*table, "settings", sink);
      reader.RejectUnknownKeys(Keys("settings"));
      doc.settings = DecodeSettings(reader, base_dir);
      doc.settings->where = reader.Header();
    } else {
      sink->Error(node->source().begin, "settings",
                  "expected a table ([settings]), got " + TypeName(*node));
    }
  }
  DecodeArray(root, "kernel", sink, &doc.kernels,
              [&](TableReader& t) { return DecodeKernel(t, base_dir); });
  DecodeArray(root, "image", sink, &doc.images,
              [&](TableReader& t) { return DecodeImage(t, base_dir); });
  DecodeArray(root, "file_sync", sink, &doc.file_syncs,
              [&](TableReader& t) { return DecodeFileSync(t, base_dir); });
  DecodeArray(root, "vm", sink, &doc.vms, [&](TableReader& t) { return DecodeVm(t, base_dir); });
  DecodeArray(root, "snapshot", sink, &doc.snapshots,
              [&](TableReader& t) { return DecodeSnapshot(t); });
  return doc;
}

Settings DecodeSettings(TableReader& t, const std::string& base_dir) {
  Settings s;
  if (auto bridge = t.String("bridge"); bridge && t.Check("bridge", CheckInterfaceName(*bridge)))
    s.bridge = *bridge;
  if (auto subnet = t.String("subnet"); subnet && t.Check("subnet", CheckSubnet(*subnet)))
    s.subnet = *subnet;
  if (auto vmm = t.String("vmm")) {
    static const std::vector<std::string> kVmms = {"auto", "qemu", "firecracker"};
    if (std::find(kVmms.begin(), kVmms.end(), *vmm) != kVmms.end())
      s.vmm = *vmm;
    else
      t.ValueError("vmm", "unknown vmm " + Quote(*vmm) +
                              ": expected 'auto', 'qemu' or 'firecracker'" +
                              DidYouMean(*vmm, kVmms));
  }
  if (auto jailer = t.Bool("jailer")) {
    // The jailer runs Firecracker only; under "auto" a VM could boot with
    // QEMU and silently run unjailed.
    if (*jailer && s.vmm != "firecracker")
      t.ValueError("jailer", "needs vmm = \"firecracker\" (the jailer runs only Firecracker), "
                             "not " + Quote(s.vmm));
    else
      s.jailer = *jailer;
  }
  if (auto dir = t.String("state_dir")) {
    if (dir->empty())
      t.ValueError("state_dir", "must not be empty");
    else
      s.state_dir = ResolveHostPath(*dir, base_dir);
  }
  if (auto catalog = t.String("kernel_catalog")) {
    if (catalog->empty())
      t.ValueError("kernel_catalog", "must not be empty");
    else
      s.kernel_catalog = ResolveHostPath(*catalog, base_dir);
  }
  DecodeImageLimits(t, s);
  if (auto interval = t.Integer("daemon_interval")) {
    if (*interval < 1 || *interval > 3600)
      t.ValueError("daemon_interval",
                   "must be between 1 and 3600 seconds, got " + std::to_string(*interval));
    else
      s.daemon_interval = static_cast<int>(*interval);
  }
  if (auto destructive = t.Bool("daemon_destructive")) s.daemon_destructive = *destructive;
  return s;
}

std::optional<FileSyncSpec> DecodeFileSync(TableReader& t, const std::string& base_dir) {
  FileSyncSpec f;
  std::optional<std::string> name = DecodeName(t, "file_sync");
  if (auto host = t.String("host", /*required=*/true)) f.host = ResolveHostPath(*host, base_dir);
  if (auto guest = t.String("guest", /*required=*/true);
      guest && t.Check("guest", CheckGuestPath(*guest)))
    f.guest = *guest;
  if (const toml::node* mode = t.Find("mode")) {
    Result<uint32_t> parsed = InvalidArgument("");
    if (mode->is_string()) {
      parsed = ParseMode(mode->as_string()->get());
    } else if (mode->is_integer()) {
      parsed = CheckMode(mode->as_integer()->get());
    } else {
      t.ValueError("mode", "expected a mode (a string of octal digits such as \"0600\", or "
                           "an integer), got " + TypeName(*mode));
    }
    if (parsed.ok())
      f.mode = *parsed;
    else if (!parsed.error().message().empty())
      t.ValueError("mode", parsed.error().message());
  }
  if (!name) return std::nullopt;
  f.name = *name;
  return f;
}

}  // namespace banger::specs
