// Reading spec files: gathering the files, decoding each, merging them into
// one DesiredState and the checks that span files. References to images and
// kernels are checked apart from parsing (CheckReferences) because they may
// name objects that only the store holds.
#include "specs/loader.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "reconciler/os/fs.h"
#include "specs/decoders.h"
#include "specs/did_you_mean.h"
#include "specs/snapshot_rules.h"

namespace banger::specs {
namespace {

// Adds decoded documents to the outcome one by one, refusing a second
// [settings] and a second object of a kind with the same name.
class Merger {
 public:
  explicit Merger(ParseOutcome* out) : out_(out) {}

  void Add(DecodedDocument doc) {
    DesiredState& state = out_->state;
    if (doc.settings) {
      if (state.has_settings) {
        out_->errors.push_back({doc.settings->where, "settings",
                                "more than one [settings] table; the first is at " +
                                    state.settings.where.ToString()});
      } else {
        state.settings = std::move(*doc.settings);
        state.has_settings = true;
      }
    }
    AddAll("kernel", std::move(doc.kernels), &state.kernels);
    AddAll("image", std::move(doc.images), &state.images);
    AddAll("file_sync", std::move(doc.file_syncs), &state.file_syncs);
    AddAll("vm", std::move(doc.vms), &state.vms);
    AddAll("snapshot", std::move(doc.snapshots), &state.snapshots);
  }

 private:
  template <typename Spec>
  void AddAll(const std::string& kind, std::vector<Spec> specs, std::vector<Spec>* into) {
    for (Spec& spec : specs) {
      auto first = std::find_if(into->begin(), into->end(),
                                [&](const Spec& s) { return s.name == spec.name; });
      if (first != into->end()) {
        out_->errors.push_back({spec.where, kind + "." + spec.name,
                                "duplicate " + kind + " " + Quote(spec.name) +
                                    "; the first is at " + first->where.ToString()});
        continue;
      }
      into->push_back(std::move(spec));
    }
  }

  ParseOutcome* out_;
};

void ParseDocument(const std::string& text, const std::string& display,
                   const std::string& base_dir, ParseOutcome* out, Merger* merger) {
  DiagnosticSink sink(display, out);
  std::optional<toml::table> root = ParseToml(text, &sink);
  if (!root) return;
  merger->Add(DecodeDocument(*root, base_dir, &sink));
}

void WarnUnused(ParseOutcome* out) {
  for (const FileSyncSpec& f : out->state.file_syncs) {
    bool used = std::any_of(out->state.vms.begin(), out->state.vms.end(), [&](const VmSpec& vm) {
      return std::find(vm.file_sync.begin(), vm.file_sync.end(), f.name) != vm.file_sync.end();
    });
    if (!used)
      out->warnings.push_back({f.where, "file_sync." + f.name, "not used by any vm"});
  }
}

// Orders diagnostics by file (in the order files were read), then position,
// so the report reads top to bottom whatever order the checks ran in.
void SortDiagnostics(const std::vector<std::string>& file_order,
                     std::vector<Diagnostic>* diags) {
  auto rank = [&](const Diagnostic& d) {
    auto it = std::find(file_order.begin(), file_order.end(), d.where.file);
    return std::make_tuple(it - file_order.begin(), d.where.line, d.where.column);
  };
  std::stable_sort(diags->begin(), diags->end(),
                   [&](const Diagnostic& a, const Diagnostic& b) { return rank(a) < rank(b); });
}

void Finish(std::vector<std::string> file_order, ParseOutcome* out) {
  CheckSnapshots(out);
  WarnUnused(out);
  SortDiagnostics(file_order, &out->errors);
  SortDiagnostics(file_order, &out->warnings);
  out->shown_files = std::move(file_order);
}

bool IsTomlFile(const std::string& dir, const std::string& name) {
  constexpr std::string_view kExt = ".toml";
  return name.size() > kExt.size() &&
         name.compare(name.size() - kExt.size(), kExt.size(), kExt) == 0 &&
         !IsDirectory(JoinPath(dir, name));
}

std::string AbsolutePath(const std::string& path) {
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(path, ec);
  if (ec) return path;
  return abs.lexically_normal().string();
}

template <typename Spec>
std::vector<std::string> Names(const std::vector<Spec>& specs, const std::set<std::string>& more) {
  std::vector<std::string> names;
  for (const Spec& s : specs) names.push_back(s.name);
  for (const std::string& n : more)
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  return names;
}

class ReferenceChecker {
 public:
  ReferenceChecker(const KeyLocations* locations, std::vector<Diagnostic>* errors)
      : locations_(locations), errors_(errors) {}

  // Reports `name` when it is not among `names`; `key` is the referencing key.
  void Check(const VmSpec& vm, const std::string& key, std::string_view what,
             const std::string& name, const std::vector<std::string>& names) {
    if (name.empty() || std::find(names.begin(), names.end(), name) != names.end()) return;
    std::string path = "vm." + vm.name + "." + key;
    SourceLocation where = vm.where;
    if (locations_) {
      if (auto it = locations_->find(path); it != locations_->end()) where = it->second;
    }
    // An array element is reported under its array's key.
    std::string shown = path.substr(0, path.find('['));
    errors_->push_back({where, shown,
                        "unknown " + std::string(what) + " " + Quote(name) + DidYouMean(name, names)});
  }

 private:
  const KeyLocations* locations_;
  std::vector<Diagnostic>* errors_;
};

}  // namespace

void CheckReferences(const DesiredState& state, const KnownObjects& known,
                     std::vector<Diagnostic>* errors, const KeyLocations* locations) {
  std::vector<std::string> images = Names(state.images, known.images);
  std::vector<std::string> kernels = Names(state.kernels, known.kernels);
  std::vector<std::string> syncs = Names(state.file_syncs, {});
  ReferenceChecker checker(locations, errors);
  for (const VmSpec& vm : state.vms) {
    // A clone's image and kernel are its source VM's, checked there.
    if (vm.from_snapshot.empty()) {
      checker.Check(vm, "image", "image", vm.image, images);
      checker.Check(vm, "kernel", "kernel", vm.kernel, kernels);
    }
    // Located by position: exact unless elements before it were dropped for
    // errors of their own, which are reported anyway.
    for (size_t i = 0; i < vm.file_sync.size(); ++i)
      checker.Check(vm, "file_sync[" + std::to_string(i) + "]", "file_sync entry",
                    vm.file_sync[i], syncs);
  }
}

void CheckReferences(ParseOutcome* outcome, const KnownObjects& known) {
  CheckReferences(outcome->state, known, &outcome->errors, &outcome->locations);
  SortDiagnostics(outcome->shown_files, &outcome->errors);
}

std::string Diagnostic::ToString() const {
  std::string out = where.ToString();
  if (!out.empty()) out += ": ";
  if (!key.empty()) out += key + ": ";
  return out + message;
}

ParseOutcome ParseSpecText(const std::string& text, const std::string& display_name,
                           const std::string& base_dir) {
  ParseOutcome out;
  Merger merger(&out);
  out.state.files.push_back(display_name);
  ParseDocument(text, display_name, base_dir, &out, &merger);
  Finish({display_name}, &out);
  return out;
}

ParseOutcome ParseSpecFiles(const std::vector<std::string>& paths) {
  ParseOutcome out;
  Merger merger(&out);
  std::vector<std::string> order;  // display names, for sorting diagnostics
  if (paths.empty()) out.errors.push_back({{}, "", "no spec files given"});

  auto read_file = [&](const std::string& file) {
    std::string absolute = AbsolutePath(file);
    if (std::find(out.state.files.begin(), out.state.files.end(), absolute) !=
        out.state.files.end())
      return;
    out.state.files.push_back(absolute);
    order.push_back(file);
    Result<std::string> text = ReadFile(file);
    if (!text.ok()) {
      out.errors.push_back({{file}, "", text.error().message()});
      return;
    }
    ParseDocument(*text, file, Dirname(absolute), &out, &merger);
  };

  for (const std::string& path : paths) {
    if (!IsDirectory(path)) {
      read_file(path);
      continue;
    }
    order.push_back(path);
    Result<std::vector<std::string>> names = ListDir(path);
    if (!names.ok()) {
      out.errors.push_back({{path}, "", names.error().message()});
      continue;
    }
    bool any = false;
    for (const std::string& name : *names) {
      if (!IsTomlFile(path, name)) continue;
      any = true;
      read_file(JoinPath(path, name));
    }
    if (!any)
      out.errors.push_back({{path}, "", "directory " + Quote(path) + " holds no .toml files"});
  }
  Finish(order, &out);
  return out;
}

}  // namespace banger::specs
