#include "reconciler/model/snapshot_meta.h"

namespace banger::model {
namespace {

using nlohmann::json;

// Reads fields of one JSON object, remembering the first problem.
class Fields {
 public:
  Fields(const json& j, std::string where) : j_(j), where_(std::move(where)) {
    if (!j_.is_object()) problem_ = where_ + ": expected an object";
  }
  void Str(const char* key, std::string& out) {
    if (const json* v = Get(key, json::value_t::string)) out = v->get<std::string>();
  }
  void U64(const char* key, uint64_t& out) {
    const json* v = Find(key);
    if (!v) return;
    if (!v->is_number_unsigned() && !(v->is_number_integer() && v->get<int64_t>() >= 0)) {
      Fail(key, "a non-negative integer");
      return;
    }
    out = v->get<uint64_t>();
  }
  void I64(const char* key, int64_t& out) {
    const json* v = Find(key);
    if (!v) return;
    if (!v->is_number_integer()) {
      Fail(key, "an integer");
      return;
    }
    out = v->get<int64_t>();
  }
  void Int(const char* key, int& out) {
    int64_t v = 0;
    I64(key, v);
    out = static_cast<int>(v);
  }
  void Bool(const char* key, bool& out) {
    if (const json* v = Get(key, json::value_t::boolean)) out = v->get<bool>();
  }
  const json* Array(const char* key) { return Get(key, json::value_t::array); }
  const std::string& problem() const { return problem_; }
  void Fail(const char* key, const std::string& want) {
    if (problem_.empty()) problem_ = where_ + ": field " + Quote(key) + " must be " + want;
  }

 private:
  const json* Find(const char* key) {
    if (!problem_.empty()) return nullptr;
    auto it = j_.find(key);
    if (it == j_.end()) {
      problem_ = where_ + ": field " + Quote(key) + " is missing";
      return nullptr;
    }
    return &*it;
  }
  const json* Get(const char* key, json::value_t type) {
    const json* v = Find(key);
    if (!v) return nullptr;
    if (v->type() != type) {
      Fail(key, type == json::value_t::string    ? "a string"
                : type == json::value_t::boolean ? "a boolean"
                                                 : "an array");
      return nullptr;
    }
    return v;
  }

  const json& j_;
  std::string where_;
  std::string problem_;
};

}  // namespace

json SnapshotMetaToJson(const SnapshotMeta& m) {
  json disks = json::array();
  for (const SnapshotDisk& d : m.disks) {
    disks.push_back(json{{"id", d.id}, {"file", d.file}, {"format", d.format},
                         {"backing", d.backing}, {"copy_method", d.copy_method},
                         {"size_bytes", d.size_bytes}, {"allocated_bytes", d.allocated_bytes}});
  }
  return json{{"format", m.format},           {"name", m.name},
              {"source_vm", m.source_vm},     {"created_unix", m.created_unix},
              {"vmm", m.vmm},                 {"vmm_binary", m.vmm_binary},
              {"vmm_version", m.vmm_version}, {"machine", m.machine},
              {"accel", m.accel},             {"kernel_name", m.kernel_name},
              {"kernel_digest", m.kernel_digest}, {"image_name", m.image_name},
              {"image_digest", m.image_digest},   {"memory_bytes", m.memory_bytes},
              {"vcpus", m.vcpus},             {"cmdline", m.cmdline},
              {"channel", m.channel},         {"mac", m.mac},
              {"ip", m.ip},                   {"state_file", m.state_file},
              {"memory_file", m.memory_file}, {"state_bytes", m.state_bytes},
              {"state_sha256", m.state_sha256}, {"memory_file_bytes", m.memory_file_bytes},
              {"save_ms", m.save_ms},         {"disks", disks}};
}

Result<SnapshotMeta> SnapshotMetaFromJson(const json& j) {
  SnapshotMeta m;
  Fields f(j, "snapshot metadata");
  f.Int("format", m.format);
  if (f.problem().empty() && m.format > SnapshotMeta::kFormat) {
    return FailedPrecondition("snapshot metadata has format " + std::to_string(m.format) +
                              " but this banger reads formats up to " +
                              std::to_string(SnapshotMeta::kFormat) +
                              "; it was written by a newer banger");
  }
  if (f.problem().empty() && m.format < 1) f.Fail("format", "at least 1");
  f.Str("name", m.name);
  f.Str("source_vm", m.source_vm);
  f.I64("created_unix", m.created_unix);
  f.Str("vmm", m.vmm);
  f.Str("vmm_binary", m.vmm_binary);
  f.Str("vmm_version", m.vmm_version);
  f.Str("machine", m.machine);
  f.Str("accel", m.accel);
  f.Str("kernel_name", m.kernel_name);
  f.Str("kernel_digest", m.kernel_digest);
  f.Str("image_name", m.image_name);
  f.Str("image_digest", m.image_digest);
  f.U64("memory_bytes", m.memory_bytes);
  f.Int("vcpus", m.vcpus);
  f.Str("cmdline", m.cmdline);
  f.Bool("channel", m.channel);
  f.Str("mac", m.mac);
  f.Str("ip", m.ip);
  f.Str("state_file", m.state_file);
  f.Str("memory_file", m.memory_file);
  f.U64("state_bytes", m.state_bytes);
  f.Str("state_sha256", m.state_sha256);
  f.U64("memory_file_bytes", m.memory_file_bytes);
  f.I64("save_ms", m.save_ms);
  if (const json* disks = f.Array("disks")) {
    for (size_t i = 0; i < disks->size(); ++i) {
      SnapshotDisk d;
      Fields df((*disks)[i], "snapshot metadata: disks[" + std::to_string(i) + "]");
      df.Str("id", d.id);
      df.Str("file", d.file);
      df.Str("format", d.format);
      df.Str("backing", d.backing);
      df.Str("copy_method", d.copy_method);
      df.U64("size_bytes", d.size_bytes);
      df.U64("allocated_bytes", d.allocated_bytes);
      if (!df.problem().empty()) return InvalidArgument(df.problem());
      m.disks.push_back(std::move(d));
    }
  }
  if (!f.problem().empty()) return InvalidArgument(f.problem());
  // File names are joined to the snapshot dir: plain names only.
  auto plain = [](const std::string& n) {
    return !n.empty() && n != "." && n != ".." && n.find('/') == std::string::npos;
  };
  if (!plain(m.state_file)) return InvalidArgument("snapshot metadata: bad state_file " + Quote(m.state_file));
  if (!m.memory_file.empty() && !plain(m.memory_file))
    return InvalidArgument("snapshot metadata: bad memory_file " + Quote(m.memory_file));
  for (const SnapshotDisk& d : m.disks) {
    if (!plain(d.file)) return InvalidArgument("snapshot metadata: bad disk file " + Quote(d.file));
    if (d.format != "raw" && d.format != "qcow2")
      return InvalidArgument("snapshot metadata: disk " + Quote(d.id) + " has format " + Quote(d.format));
  }
  return m;
}

}  // namespace banger::model
