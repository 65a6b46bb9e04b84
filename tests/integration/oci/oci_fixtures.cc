#include "tests/integration/oci/oci_fixtures.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "reconciler/os/exec.h"
#include "reconciler/os/fs.h"
#include "tests/support/test_env.h"

namespace banger::testing {

std::string OciFixtureDir() { return JoinPath(SourceDir(), "tests/fixtures/oci"); }

std::string Python() {
  // The pyenv shim in PATH may lack system modules (cryptography).
  return PathExists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

void RunFixture(const std::string& script, const std::vector<std::string>& args) {
  ExecRequest req;
  req.argv = {Python(), JoinPath(OciFixtureDir(), script)};
  req.argv.insert(req.argv.end(), args.begin(), args.end());
  req.timeout = std::chrono::minutes(2);
  auto r = RunChecked(req);
  if (!r.ok()) throw std::runtime_error(r.error().message());
}

std::vector<std::string> LayerFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (int i = 0;; ++i) {
    std::string p = JoinPath(dir, "layer" + std::to_string(i) + ".tar");
    if (!PathExists(p)) break;
    out.push_back(p);
  }
  return out;
}

Status ApplyLayers(const std::vector<std::string>& layers, image::RootfsTree& tree,
                   const image::ExtractOptions& options, image::ExtractStats& stats) {
  for (const auto& layer : layers) BANGER_RETURN_IF_ERROR(image::ApplyTarball(layer, tree, options, stats));
  return OkStatus();
}

std::vector<std::string> ListTree(const std::string& root) {
  std::vector<std::string> out;
  namespace fs = std::filesystem;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it)
    out.push_back(fs::relative(it->path(), root).string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string Slurp(const std::string& path) {
  auto r = ReadFile(path);
  return r.ok() ? *r : "<missing>";
}

}  // namespace banger::testing
