#include "tests/integration/oci/oci_fixtures.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "reconciler/oci/reference.h"
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

const std::string& FixtureLayout() {
  static TempDir scratch = ScratchDir("banger-oci-layout-");
  static std::string layout = [] {
    std::string layers = JoinPath(scratch.path(), "layers");
    if (!MakeDirs(layers).ok()) throw std::runtime_error("mkdir " + layers);
    RunFixture("base_layers.py", {layers});
    std::string out = JoinPath(scratch.path(), "layout");
    BuildLayoutImage(out, {"v1", LayerFiles(layers), "linux", "amd64",
                           {"--config.env=BANGER=1", "--config.entrypoint=/bin/sh",
                            "--config.entrypoint=-c", "--config.cmd=echo hi",
                            "--config.user=1000:1000", "--config.workingdir=/srv"}});
    for (std::string arch : {"amd64", "arm64"}) {
      std::string dir = JoinPath(scratch.path(), "arch-" + arch);
      WriteFile(dir, "arch", arch + "\n");
      std::string tar = JoinPath(scratch.path(), "arch-" + arch + ".tar");
      ExecRequest req;
      req.argv = {"tar", "-C", dir, "-cf", tar, "arch"};
      if (!RunChecked(req).ok()) throw std::runtime_error("tar " + tar);
      BuildLayoutImage(out, {arch, {tar}, "linux", arch, {}});
    }
    AddLayoutIndex(out, "multi", {"amd64", "arm64"});
    return out;
  }();
  return layout;
}

ChildProcess StartHelperServer(const std::string& script, int port,
                               const std::vector<std::string>& args, const std::string& log,
                               const std::string& probe_path) {
  std::vector<std::string> argv = {Python(), JoinPath(OciFixtureDir(), script), "--port",
                                   std::to_string(port)};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess child = ChildProcess::Spawn(argv, DefaultEnvironment(), log + ".out");
  WaitForHttp("http://127.0.0.1:" + std::to_string(port) + probe_path, child, log + ".out");
  return child;
}

oci::PullOptions TestPullOptions(const std::string& dir, const std::string& docker_config) {
  oci::PullOptions o;
  o.cache_dir = JoinPath(dir, "cache");
  o.docker_config = docker_config.empty() ? JoinPath(dir, "no-such-config.json") : docker_config;
  return o;
}

bool CacheIsClean(const std::string& cache_dir) {
  std::string blobs = JoinPath(cache_dir, "oci/blobs/sha256");
  auto names = ListDir(blobs);
  if (!names.ok()) return false;
  for (const auto& n : *names) {
    auto content = ReadFile(JoinPath(blobs, n));
    if (!content.ok() || oci::Sha256Digest(*content) != "sha256:" + n) return false;
  }
  return true;
}

}  // namespace banger::testing
