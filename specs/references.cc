// References from VMs to images, kernels and file_sync entries. Images and
// kernels may already exist in the store, so this runs apart from parsing,
// once the caller knows what the store holds.
#include <algorithm>
#include <set>

#include "specs/did_you_mean.h"
#include "specs/loader.h"

namespace banger::specs {
namespace {

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
    checker.Check(vm, "image", "image", vm.image, images);
    checker.Check(vm, "kernel", "kernel", vm.kernel, kernels);
    // Located by position: exact unless elements before it were dropped for
    // errors of their own, which are reported anyway.
    for (size_t i = 0; i < vm.file_sync.size(); ++i)
      checker.Check(vm, "file_sync[" + std::to_string(i) + "]", "file_sync entry",
                    vm.file_sync[i], syncs);
  }
}

}  // namespace banger::specs
