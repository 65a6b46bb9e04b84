#include <catch2/catch.hpp>

#include <map>

#include "reconciler/store/state_dir.h"

using namespace banger::store;

namespace {
EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) {
    auto it = vars.find(std::string(name));
    return it == vars.end() ? std::string() : it->second;
  };
}
const std::string kHome = "/home/dev";
}  // namespace

TEST_CASE("the state dir follows settings, then BANGER_STATE_DIR, then XDG, then home") {
  auto all = Env({{"BANGER_STATE_DIR", "/env/state"}, {"XDG_STATE_HOME", "/xdg/state"}});
  CHECK(ResolveStateDir("/from/settings", all, kHome) == "/from/settings");
  CHECK(ResolveStateDir("~/lab", all, kHome) == "/home/dev/lab");
  CHECK(ResolveStateDir("", all, kHome) == "/env/state");
  CHECK(ResolveStateDir("", Env({{"BANGER_STATE_DIR", "~/s"}}), kHome) == "/home/dev/s");
  CHECK(ResolveStateDir("", Env({{"XDG_STATE_HOME", "/xdg/state"}}), kHome) ==
        "/xdg/state/banger");
  CHECK(ResolveStateDir("", Env({}), kHome) == "/home/dev/.local/state/banger");
  // A relative XDG value is invalid by the spec and ignored.
  CHECK(ResolveStateDir("", Env({{"XDG_STATE_HOME", "rel/state"}}), kHome) ==
        "/home/dev/.local/state/banger");
}

TEST_CASE("the cache dir follows BANGER_CACHE_DIR, then XDG, then home") {
  CHECK(ResolveCacheDir(Env({{"BANGER_CACHE_DIR", "/c"}, {"XDG_CACHE_HOME", "/x"}}), kHome) ==
        "/c");
  CHECK(ResolveCacheDir(Env({{"XDG_CACHE_HOME", "/x"}}), kHome) == "/x/banger");
  CHECK(ResolveCacheDir(Env({}), kHome) == "/home/dev/.cache/banger");
}

TEST_CASE("the config dir follows XDG, then home") {
  CHECK(ResolveConfigDir(Env({{"XDG_CONFIG_HOME", "/cfg/"}}), kHome) == "/cfg/banger");
  CHECK(ResolveConfigDir(Env({}), kHome) == "/home/dev/.config/banger");
}

TEST_CASE("state paths lay out the state dir") {
  StatePaths p("/var/lib/st/");
  CHECK(p.root() == "/var/lib/st/");
  CHECK(p.db() == "/var/lib/st/state.db");
  CHECK(p.lock() == "/var/lib/st/apply.lock");
  CHECK(p.vm_dir("web") == "/var/lib/st/vms/web");
  CHECK(p.handles("web") == "/var/lib/st/vms/web/handles.json");
  CHECK(p.vm_lock("web") == "/var/lib/st/locks/vm-web.lock");
  CHECK(p.kernels_dir() == "/var/lib/st/kernels");
  CHECK(p.images_dir() == "/var/lib/st/images");
  CHECK(p.staging_dir() == "/var/lib/st/staging");
}
