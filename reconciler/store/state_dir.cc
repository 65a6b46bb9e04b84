#include "reconciler/store/state_dir.h"

#include <cstdlib>

#include "reconciler/os/fs.h"

namespace banger::store {

namespace {

// $VAR/banger when VAR holds an absolute path, else ~/<fallback>/banger.
std::string XdgDir(const EnvLookup& env, std::string_view var, const std::string& home,
                   std::string_view fallback) {
  std::string base = env(var);
  if (base.empty() || base[0] != '/') base = JoinPath(home, fallback);
  return JoinPath(base, "banger");
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](std::string_view name) {
    const char* value = std::getenv(std::string(name).c_str());
    return value ? std::string(value) : std::string();
  };
}

std::string ResolveStateDir(const std::string& settings_state_dir, const EnvLookup& env,
                            const std::string& home) {
  if (!settings_state_dir.empty()) return ExpandTilde(settings_state_dir, home);
  if (std::string dir = env("BANGER_STATE_DIR"); !dir.empty()) return ExpandTilde(dir, home);
  return XdgDir(env, "XDG_STATE_HOME", home, ".local/state");
}

std::string ResolveCacheDir(const EnvLookup& env, const std::string& home) {
  if (std::string dir = env("BANGER_CACHE_DIR"); !dir.empty()) return ExpandTilde(dir, home);
  return XdgDir(env, "XDG_CACHE_HOME", home, ".cache");
}

std::string ResolveConfigDir(const EnvLookup& env, const std::string& home) {
  return XdgDir(env, "XDG_CONFIG_HOME", home, ".config");
}

std::string StateDirFromProcess(const std::string& settings_state_dir) {
  return ResolveStateDir(settings_state_dir, ProcessEnv(), HomeDir());
}

std::string CacheDirFromProcess() { return ResolveCacheDir(ProcessEnv(), HomeDir()); }

std::string ConfigDirFromProcess() { return ResolveConfigDir(ProcessEnv(), HomeDir()); }

std::string StatePaths::db() const { return JoinPath(root_, "state.db"); }
std::string StatePaths::lock() const { return JoinPath(root_, "apply.lock"); }
std::string StatePaths::vms_dir() const { return JoinPath(root_, "vms"); }
std::string StatePaths::vm_dir(std::string_view name) const { return JoinPath(vms_dir(), name); }
std::string StatePaths::locks_dir() const { return JoinPath(root_, "locks"); }
std::string StatePaths::vm_lock(std::string_view name) const {
  return JoinPath(locks_dir(), "vm-" + std::string(name) + ".lock");
}
std::string StatePaths::handles(std::string_view name) const {
  return JoinPath(vm_dir(name), "handles.json");
}
std::string StatePaths::kernels_dir() const { return JoinPath(root_, "kernels"); }
std::string StatePaths::images_dir() const { return JoinPath(root_, "images"); }
std::string StatePaths::staging_dir() const { return JoinPath(root_, "staging"); }

}  // namespace banger::store
