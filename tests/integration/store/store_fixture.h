// Records and helpers shared by the store integration tests.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "reconciler/model/records.h"
#include "reconciler/store/sqlite_db.h"
#include "reconciler/store/store.h"
#include "tests/support/test_env.h"

namespace banger::store::testing {

inline model::KernelRecord Kernel(const std::string& name) {
  model::KernelRecord r;
  r.spec.name = name;
  r.spec.source = specs::KernelSource::kDeb;
  r.spec.deb = "linux-image-cloud-amd64";
  r.origin = model::Origin::kCli;
  r.digest = "sha256:" + std::string(64, 'k');
  r.dir = "/state/kernels/" + name;
  r.version = "6.1.0-28-cloud-amd64";
  r.created_unix = 1700000001;
  return r;
}

inline model::ImageRecord Image(const std::string& name) {
  model::ImageRecord r;
  r.spec.name = name;
  r.spec.source = specs::ImageSource::kOci;
  r.spec.oci = "docker.io/library/debian:12";
  r.spec.size = 2 * specs::kGiB;
  r.digest = "sha256:" + std::string(64, 'i');
  r.dir = "/state/images/" + name;
  r.rootfs_bytes = 1234567890;
  r.created_unix = 1700000002;
  return r;
}

inline model::FileSyncRecord FileSync(const std::string& name) {
  model::FileSyncRecord r;
  r.spec.name = name;
  r.spec.host = "~/.gitconfig";
  r.spec.guest = "~/.gitconfig";
  r.spec.mode = 0600;
  return r;
}

inline model::VmRecord Vm(const std::string& name) {
  model::VmRecord r;
  r.spec.name = name;
  r.spec.image = "debian";
  r.spec.kernel = "cloud";
  r.spec.vcpus = 4;
  r.spec.file_sync = {"git"};
  r.spec.labels = {{"role", "web"}};
  r.origin = model::Origin::kSpec;
  r.power = model::PowerIntent::kStopped;
  r.kernel_digest = "sha256:kd";
  r.image_digest = "sha256:id";
  r.synced = {{"git", "sha256:gd"}};
  r.created_unix = 1700000003;
  return r;
}

inline std::unique_ptr<Store> OpenStore(const std::string& dir, Store::Options options = {}) {
  auto store = Store::Open(dir, options);
  if (!store.ok()) FAIL("open store: " << store.error().message());
  return std::move(store).value();
}

inline int64_t SerialOf(Store& store) {
  auto serial = store.Serial();
  REQUIRE(serial.ok());
  return *serial;
}

// A second, raw connection to the same file, as another process would have.
inline Database RawConnection(const std::string& dir) {
  auto db = Database::Open(dir + "/state.db");
  if (!db.ok()) FAIL("raw open: " << db.error().message());
  sqlite3_busy_timeout(db->get(), 5000);
  return std::move(db).value();
}

}  // namespace banger::store::testing
