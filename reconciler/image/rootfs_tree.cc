#include "reconciler/image/rootfs_tree.h"

#include <limits>
#include <nlohmann/json.hpp>

#include "reconciler/os/fs.h"

namespace banger::image {

namespace {

using nlohmann::json;

constexpr int kFormatVersion = 1;

// xattr values are binary (security.capability is a packed struct) and file
// names from archives need not be UTF-8, so both are stored hex-encoded when
// JSON strings could not hold them exactly.
std::string ToHex(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

Result<std::string> FromHex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (hex.size() % 2) return Error(Code::kCorruption, "odd-length hex string");
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return Error(Code::kCorruption, "bad hex digit");
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return out;
}

// Whether the JSON serializer accepts the bytes as a string (it rejects
// invalid and overlong UTF-8).
bool IsValidUtf8(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) {
      try {
        (void)json(std::string(s)).dump();
        return true;
      } catch (const json::exception&) {
        return false;
      }
    }
  return true;
}

// A relative path as RootfsTree keys it: no leading '/', no empty, "." or
// ".." components. "" is the root.
bool IsCleanRelative(const std::string& rel) {
  if (rel.empty()) return true;
  if (rel.front() == '/' || rel.back() == '/') return false;
  size_t start = 0;
  while (start <= rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string::npos) end = rel.size();
    std::string_view part(rel.data() + start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

// An unsigned JSON integer that fits T; nlohmann would silently wrap -1.
template <typename T>
Result<T> UnsignedField(const json& e, const char* key, bool required) {
  auto it = e.find(key);
  if (it == e.end()) {
    if (required) return Error(Code::kCorruption, std::string("missing '") + key + "'");
    return T{0};
  }
  if (!it->is_number_unsigned() || it->get<uint64_t>() > std::numeric_limits<T>::max())
    return Error(Code::kCorruption, std::string("'") + key + "' is not a valid unsigned number");
  return static_cast<T>(it->get<uint64_t>());
}

}  // namespace

void RootfsTree::Erase(const std::string& rel) {
  if (rel.empty()) {
    entries_.clear();
    return;
  }
  entries_.erase(rel);
  // Keys below rel sort in one run starting at "rel/".
  const std::string prefix = rel + "/";
  auto it = entries_.lower_bound(prefix);
  while (it != entries_.end() && it->first.compare(0, prefix.size(), prefix) == 0)
    it = entries_.erase(it);
}

const EntryMeta* RootfsTree::Find(const std::string& rel) const {
  auto it = entries_.find(rel);
  return it == entries_.end() ? nullptr : &it->second;
}

Status RootfsTree::Save(const std::string& path) const {
  json list = json::array();
  for (const auto& [rel, meta] : entries_) {
    json e;
    if (IsValidUtf8(rel))
      e["path"] = rel;
    else
      e["path_hex"] = ToHex(rel);
    e["uid"] = meta.uid;
    e["gid"] = meta.gid;
    e["mode"] = meta.mode;
    if (meta.rdev) e["rdev"] = meta.rdev;
    if (!meta.xattrs.empty()) {
      json x = json::object();
      for (const auto& [name, value] : meta.xattrs) {
        if (!IsValidUtf8(name))
          return InvalidArgument("save rootfs metadata " + Quote(path) + ": xattr name on " +
                                 Quote(rel) + " is not UTF-8");
        x[name] = ToHex(value);
      }
      e["xattrs_hex"] = std::move(x);
    }
    list.push_back(std::move(e));
  }
  json doc = {{"version", kFormatVersion}, {"entries", std::move(list)}};
  return AtomicWriteFile(path, doc.dump() + "\n", 0644);
}

Result<RootfsTree> RootfsTree::Load(const std::string& root, const std::string& path) {
  BANGER_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto corrupt = [&](const std::string& why) {
    return Error(Code::kCorruption, "load rootfs metadata " + Quote(path) + ": " + why);
  };
  RootfsTree tree(root);
  try {
    json doc = json::parse(text);
    if (!doc.is_object() || doc.value("version", 0) != kFormatVersion)
      return corrupt("unsupported format version");
    const json& list = doc.at("entries");
    if (!list.is_array()) return corrupt("'entries' is not a list");
    for (const json& e : list) {
      std::string rel;
      if (e.contains("path")) {
        rel = e.at("path").get<std::string>();
      } else {
        auto decoded = FromHex(e.at("path_hex").get<std::string>());
        if (!decoded.ok()) return corrupt("path_hex: " + decoded.error().message());
        rel = std::move(decoded).value();
      }
      if (!IsCleanRelative(rel)) return corrupt("path " + Quote(rel) + " is not a clean relative path");
      EntryMeta meta;
      auto uid = UnsignedField<uint32_t>(e, "uid", true);
      auto gid = UnsignedField<uint32_t>(e, "gid", true);
      auto mode = UnsignedField<uint32_t>(e, "mode", true);
      auto rdev = UnsignedField<uint64_t>(e, "rdev", false);
      for (const Error* err : {uid.ok() ? nullptr : &uid.error(), gid.ok() ? nullptr : &gid.error(),
                               mode.ok() ? nullptr : &mode.error(),
                               rdev.ok() ? nullptr : &rdev.error()})
        if (err) return corrupt("entry " + Quote(rel) + ": " + err->message());
      meta.uid = *uid;
      meta.gid = *gid;
      meta.mode = *mode;
      meta.rdev = *rdev;
      if (e.contains("xattrs_hex")) {
        for (const auto& [name, value] : e.at("xattrs_hex").items()) {
          auto decoded = FromHex(value.get<std::string>());
          if (!decoded.ok())
            return corrupt("xattr " + Quote(name) + " on " + Quote(rel) + ": " +
                           decoded.error().message());
          meta.xattrs[name] = std::move(decoded).value();
        }
      }
      tree.Set(rel, std::move(meta));
    }
  } catch (const json::exception& e) {
    return corrupt(e.what());
  }
  return tree;
}

}  // namespace banger::image
