// Where banger keeps its state, cache and configuration on the host.
//
// The state dir holds state.db, the apply lock, one directory per VM (with
// its handles.json), and the kernel and image stores. Resolution is pure: the
// environment and home directory are passed in, so the rules are tested
// without touching the process environment; the *FromProcess forms read the
// real ones.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace banger::store {

// Looks up an environment variable; "" when unset.
using EnvLookup = std::function<std::string(std::string_view)>;

// Reads the process environment (getenv).
EnvLookup ProcessEnv();

// settings.state_dir (tilde expanded) if set, else $BANGER_STATE_DIR (tilde
// expanded), else $XDG_STATE_HOME/banger, else ~/.local/state/banger. XDG
// variables holding a relative path are ignored, as the XDG spec says.
std::string ResolveStateDir(const std::string& settings_state_dir, const EnvLookup& env,
                            const std::string& home);

// $BANGER_CACHE_DIR (tilde expanded), else $XDG_CACHE_HOME/banger, else
// ~/.cache/banger.
std::string ResolveCacheDir(const EnvLookup& env, const std::string& home);

// $XDG_CONFIG_HOME/banger, else ~/.config/banger.
std::string ResolveConfigDir(const EnvLookup& env, const std::string& home);

std::string StateDirFromProcess(const std::string& settings_state_dir);
std::string CacheDirFromProcess();
std::string ConfigDirFromProcess();

// The layout inside a state dir. Names passed in are validated resource
// names (specs reject '/' and dot names), so they are used as path parts.
class StatePaths {
 public:
  explicit StatePaths(std::string root) : root_(std::move(root)) {}

  const std::string& root() const { return root_; }
  std::string db() const;                              // <root>/state.db
  std::string lock() const;                            // <root>/apply.lock
  std::string vms_dir() const;                         // <root>/vms
  std::string vm_dir(std::string_view name) const;     // <root>/vms/<name>
  // <root>/locks/vm-<name>.lock: outside the VM dir so the lock survives
  // removing that dir while it is held.
  std::string vm_lock(std::string_view name) const;
  std::string locks_dir() const;                       // <root>/locks
  std::string handles(std::string_view name) const;    // <root>/vms/<name>/handles.json
  std::string kernels_dir() const;                     // <root>/kernels
  std::string images_dir() const;                      // <root>/images
  // <root>/staging: artifacts are built here and renamed into their store,
  // on the same filesystem so the rename is atomic.
  std::string staging_dir() const;

 private:
  std::string root_;
};

}  // namespace banger::store
