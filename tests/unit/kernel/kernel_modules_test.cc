#include <catch2/catch.hpp>

#include <unistd.h>

#include "reconciler/kernel/kernel_modules.h"
#include "reconciler/os/fs.h"
#include "tests/fixtures/kernel/kernel_fixtures.h"
#include "tests/support/test_env.h"

using namespace banger;
using namespace banger::kernel;

namespace {

// The dependency shape of Debian 6.1's guest modules.
std::map<std::string, std::vector<std::string>> DebianGraph() {
  return {
      {"virtio", {}},
      {"virtio_ring", {}},
      {"virtio_mmio", {"virtio", "virtio_ring"}},
      {"virtio_pci_modern_dev", {}},
      {"virtio_pci_legacy_dev", {}},
      {"virtio_pci", {"virtio_pci_modern_dev", "virtio", "virtio_ring", "virtio_pci_legacy_dev"}},
      {"virtio_blk", {"virtio", "virtio_ring"}},
      {"failover", {}},
      {"net_failover", {"failover"}},
      {"virtio_net", {"net_failover", "virtio", "virtio_ring"}},
      {"virtio_console", {"virtio", "virtio_ring"}},
      {"vsock", {}},
      {"vmw_vsock_virtio_transport_common", {"vsock"}},
      {"vmw_vsock_virtio_transport", {"vmw_vsock_virtio_transport_common", "virtio", "virtio_ring", "vsock"}},
  };
}

size_t Pos(const std::vector<std::string>& order, const std::string& name) {
  auto it = std::find(order.begin(), order.end(), name);
  REQUIRE(it != order.end());
  return static_cast<size_t>(it - order.begin());
}

}  // namespace

TEST_CASE("load order puts every dependency before its user", "[modules]") {
  auto graph = DebianGraph();
  auto order = LoadOrder(graph, {"virtio_net", "vmw_vsock_virtio_transport", "virtio_blk",
                                 "virtio_mmio", "virtio_pci", "virtio_console"});
  REQUIRE(order.ok());
  CHECK(order->size() == graph.size());
  for (const auto& [name, deps] : graph) {
    for (const auto& dep : deps) {
      INFO(name << " needs " << dep);
      CHECK(Pos(*order, dep) < Pos(*order, name));
    }
  }
  // Stable: the same input gives the same order.
  CHECK(*order == *LoadOrder(graph, {"virtio_console", "virtio_pci", "virtio_mmio", "virtio_blk",
                                     "vmw_vsock_virtio_transport", "virtio_net"}));
}

TEST_CASE("load order includes only the closure of the roots", "[modules]") {
  auto order = LoadOrder(DebianGraph(), {"virtio_net"});
  REQUIRE(order.ok());
  CHECK(*order == std::vector<std::string>{"failover", "net_failover", "virtio", "virtio_ring",
                                           "virtio_net"});
}

TEST_CASE("load order reports unknown dependencies and cycles", "[modules]") {
  auto missing = LoadOrder({{"a", {"b"}}}, {"a"});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code() == Code::kNotFound);
  CHECK_THAT(missing.error().message(), Catch::Contains("'b' (needed by 'a')"));

  auto cycle = LoadOrder({{"a", {"b"}}, {"b", {"c"}}, {"c", {"a"}}}, {"a"});
  REQUIRE_FALSE(cycle.ok());
  CHECK_THAT(cycle.error().message(), Catch::Contains("cycle"));
}

TEST_CASE("modinfo depends are read from the ELF section", "[modules]") {
  auto deps = ModuleDepends(testing::ModuleElf("virtio_net", "net_failover,virtio-ring,virtio"));
  REQUIRE(deps.ok());
  CHECK(*deps == std::vector<std::string>{"net_failover", "virtio_ring", "virtio"});
  auto none = ModuleDepends(testing::ModuleElf("virtio", ""));
  REQUIRE(none.ok());
  CHECK(none->empty());
  CHECK_FALSE(ModuleDepends("not an elf at all, clearly not").ok());
  std::string truncated = testing::ModuleElf("x", "");
  truncated.resize(100);
  CHECK_FALSE(ModuleDepends(truncated).ok());
}

TEST_CASE("guest modules are collected from plain and compressed files", "[modules]") {
  auto dir = testing::ScratchDir();
  const std::string tree = dir.path() + "/lib/modules/6.1.0-test";
  testing::WriteFile(tree, "kernel/drivers/virtio/virtio.ko", testing::ModuleElf("virtio", ""));
  testing::WriteFile(tree, "kernel/drivers/virtio/virtio_ring.ko.xz",
                     testing::Compress(testing::ModuleElf("virtio_ring", ""), "xz"));
  testing::WriteFile(tree, "kernel/drivers/block/virtio_blk.ko.zst",
                     testing::Compress(testing::ModuleElf("virtio_blk", "virtio,virtio_ring"), "zstd"));
  testing::WriteFile(tree, "kernel/net/unrelated.ko", testing::ModuleElf("unrelated", ""));

  // virtio_net is absent: taken to be built in.
  auto mods = CollectGuestModules(tree, {"virtio_blk", "virtio_net"});
  REQUIRE(mods.ok());
  std::vector<std::string> names;
  for (const auto& m : *mods) {
    names.push_back(m.name);
    CHECK(m.elf.compare(0, 4, "\x7f" "ELF") == 0);
  }
  CHECK(names == std::vector<std::string>{"virtio", "virtio_ring", "virtio_blk"});

  testing::WriteFile(tree, "kernel/drivers/net/virtio_net.ko",
                     testing::ModuleElf("virtio_net", "net_failover"));
  auto broken = CollectGuestModules(tree, {"virtio_net"});
  REQUIRE_FALSE(broken.ok());
  CHECK_THAT(broken.error().message(), Catch::Contains("'net_failover' (needed by 'virtio_net')"));
}

TEST_CASE("module-named links are not followed when collecting modules", "[modules]") {
  auto dir = testing::ScratchDir();
  const std::string tree = dir.path() + "/modules";
  // A real module outside the tree, reachable only through links.
  testing::WriteFile(dir.path(), "outside/virtio_blk.ko", testing::ModuleElf("virtio_blk", ""));
  testing::WriteFile(tree, "kernel/virtio.ko", testing::ModuleElf("virtio", ""));
  REQUIRE(::symlink((dir.path() + "/outside/virtio_blk.ko").c_str(),
                    (tree + "/virtio_blk.ko").c_str()) == 0);
  REQUIRE(::symlink((dir.path() + "/outside").c_str(), (tree + "/linked-dir").c_str()) == 0);
  auto mods = CollectGuestModules(tree, {"virtio", "virtio_blk"});
  REQUIRE(mods.ok());
  REQUIRE(mods->size() == 1);
  CHECK(mods->front().name == "virtio");
}
