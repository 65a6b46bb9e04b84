// banger kernel list|show|rm|catalog and banger image list|show|rm: the
// artifacts in the state dir.
#include <ctime>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "reconciler/cli/cli.h"
#include "reconciler/cli/session.h"
#include "reconciler/image/file_image_store.h"
#include "reconciler/kernel/file_kernel_store.h"
#include "reconciler/kernel/kernel_catalog.h"
#include "specs/loader.h"
#include "specs/spec_json.h"

namespace banger::cli {
namespace {

std::string Date(int64_t unix) {
  char buf[32];
  time_t t = static_cast<time_t>(unix);
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", localtime(&t));
  return buf;
}

std::string Short(const std::string& digest) {
  std::string d = digest.rfind("sha256:", 0) == 0 ? digest.substr(7) : digest;
  return d.substr(0, 12);
}

std::string SourceOf(const specs::KernelSpec& k) {
  switch (k.source) {
    case specs::KernelSource::kDeb: return "deb " + k.deb;
    case specs::KernelSource::kPath: return "path " + k.path_kernel;
    case specs::KernelSource::kUrl: return "url " + k.url;
    case specs::KernelSource::kCatalog: return "catalog " + k.catalog;
  }
  return "?";
}

std::string SourceOf(const specs::ImageSpec& i) {
  switch (i.source) {
    case specs::ImageSource::kOci: return "oci " + i.oci;
    case specs::ImageSource::kDir: return "dir " + i.dir;
    case specs::ImageSource::kTar: return "tar " + i.tar;
    case specs::ImageSource::kDebootstrap: return "debootstrap " + i.suite;
  }
  return "?";
}

Result<Session> Open() {
  BANGER_ASSIGN_OR_RETURN(Session s, OpenStateOnly());
  if (!s.snapshot.ok()) return s.snapshot.error();
  return s;
}

int KernelList(Console& c) {
  auto s = Open();
  if (!s.ok()) return Fail(c, s.error());
  c.out << std::left << std::setw(16) << "NAME" << std::setw(26) << "VERSION" << std::setw(14)
        << "DIGEST" << std::setw(18) << "CREATED" << "SOURCE\n";
  for (const auto& [name, rec] : s->snapshot->kernels) {
    c.out << std::left << std::setw(16) << name << std::setw(26) << rec.version << std::setw(14)
          << Short(rec.digest) << std::setw(18) << Date(rec.created_unix) << SourceOf(rec.spec)
          << "\n";
  }
  return kExitOk;
}

int KernelShow(Console& c, const std::string& name) {
  auto s = Open();
  if (!s.ok()) return Fail(c, s.error());
  auto it = s->snapshot->kernels.find(name);
  if (it == s->snapshot->kernels.end()) return Fail(c, NotFound("no kernel " + Quote(name)));
  const auto& rec = it->second;
  nlohmann::json j = {{"name", name}, {"version", rec.version}, {"digest", rec.digest},
                      {"dir", rec.dir}, {"origin", model::OriginName(rec.origin)},
                      {"created", Date(rec.created_unix)}, {"spec", specs::ToJson(rec.spec)},
                      {"used_by", VmsUsing(*s->snapshot, name, ArtifactKind::kKernel)},
                      {"present", s->runtime.kernels->Present(rec)}};
  auto stored = s->runtime.kernel_store->Show(rec.digest);
  if (stored.ok()) {
    nlohmann::json files = nlohmann::json::array();
    for (const auto& f : stored->manifest.files)
      files.push_back({{"path", f.path}, {"size", f.size}, {"sha256", f.sha256}});
    j["files"] = files;
    j["source"] = stored->manifest.source;
  }
  c.out << j.dump(2) << "\n";
  return kExitOk;
}

int KernelRm(Console& c, const std::string& name) {
  auto s = Open();
  if (!s.ok()) return Fail(c, s.error());
  auto it = s->snapshot->kernels.find(name);
  if (it == s->snapshot->kernels.end()) return Fail(c, NotFound("no kernel " + Quote(name)));
  auto users = VmsUsing(*s->snapshot, name, ArtifactKind::kKernel);
  if (!users.empty())
    return Fail(c, FailedPrecondition("kernel " + Quote(name) + " is used by vm " +
                                      Quote(users[0]) + "; remove the VM first"));
  bool shared = false;
  for (const auto& [other, rec] : s->snapshot->kernels)
    shared |= other != name && rec.digest == it->second.digest;
  if (!shared) {
    Status st = s->runtime.kernels->Remove(it->second);
    if (!st.ok()) return Fail(c, st.error());
  }
  Status st = s->store->DeleteKernel(name);
  if (!st.ok()) return Fail(c, st.error());
  c.out << "kernel." << name << ": removed\n";
  return kExitOk;
}

int KernelCatalog(Console& c) {
  auto s = Open();
  if (!s.ok()) return Fail(c, s.error());
  const auto& settings = s->snapshot->settings;
  auto catalog = kernel::LoadCatalog(settings ? settings->kernel_catalog : "");
  if (!catalog.ok()) return Fail(c, catalog.error());
  c.out << std::left << std::setw(32) << "NAME" << std::setw(28) << "VERSION" << std::setw(8)
        << "PULLED" << "ORIGIN\n";
  for (const auto& e : *catalog) {
    bool pulled = false;
    for (const auto& [_, rec] : s->snapshot->kernels)
      pulled |= rec.spec.source == specs::KernelSource::kCatalog && rec.spec.catalog == e.name;
    c.out << std::left << std::setw(32) << e.name << std::setw(28) << e.version << std::setw(8)
          << (pulled ? "yes" : "no") << e.origin << "\n";
  }
  return kExitOk;
}

int ImageList(Console& c) {
  auto s = Open();
  if (!s.ok()) return Fail(c, s.error());
  c.out << std::left << std::setw(20) << "NAME" << std::setw(10) << "ROOTFS" << std::setw(18)
        << "CREATED" << "SOURCE\n";
  for (const auto& [name, rec] : s->snapshot->images) {
    c.out << std::left << std::setw(20) << name << std::setw(10)
          << specs::FormatSize(rec.rootfs_bytes) << std::setw(18) << Date(rec.created_unix)
          << SourceOf(rec.spec) << "\n";
  }
  return kExitOk;
}

int ImageShow(Console& c, const std::string& name) {
  auto s = Open();
  if (!s.ok()) return Fail(c, s.error());
  auto it = s->snapshot->images.find(name);
  if (it == s->snapshot->images.end()) return Fail(c, NotFound("no image " + Quote(name)));
  const auto& rec = it->second;
  nlohmann::json j = {{"name", name}, {"digest", rec.digest}, {"dir", rec.dir},
                      {"rootfs_bytes", rec.rootfs_bytes},
                      {"origin", model::OriginName(rec.origin)},
                      {"created", Date(rec.created_unix)}, {"spec", specs::ToJson(rec.spec)},
                      {"used_by", VmsUsing(*s->snapshot, name, ArtifactKind::kImage)},
                      {"present", s->runtime.images->Present(rec)}};
  c.out << j.dump(2) << "\n";
  return kExitOk;
}

int ImageRm(Console& c, const std::string& name) {
  auto s = Open();
  if (!s.ok()) return Fail(c, s.error());
  auto it = s->snapshot->images.find(name);
  if (it == s->snapshot->images.end()) return Fail(c, NotFound("no image " + Quote(name)));
  auto users = VmsUsing(*s->snapshot, name, ArtifactKind::kImage);
  if (!users.empty())
    return Fail(c, FailedPrecondition("image " + Quote(name) + " is used by vm " +
                                      Quote(users[0]) + "; remove the VM first"));
  Status st = s->runtime.images->Remove(it->second);
  if (st.ok()) st = s->store->DeleteImage(name);
  if (!st.ok()) return Fail(c, st.error());
  c.out << "image." << name << ": removed\n";
  return kExitOk;
}

void Verb(CLI::App* parent, Console& c, Command& command, const char* name, const char* help,
          int (*fn)(Console&)) {
  CLI::App* cmd = parent->add_subcommand(name, help);
  cmd->callback([&c, &command, fn] { command.run = [&c, fn] { return fn(c); }; });
}

void NamedVerb(CLI::App* parent, Console& c, Command& command, const char* name,
               const char* help, int (*fn)(Console&, const std::string&)) {
  auto arg = std::make_shared<std::string>();
  CLI::App* cmd = parent->add_subcommand(name, help);
  cmd->add_option("name", *arg, "name")->required();
  cmd->callback([&c, &command, fn, arg] {
    command.run = [&c, fn, arg] { return fn(c, *arg); };
  });
}

}  // namespace

void AddArtifactCommands(CLI::App& app, Console& c, Command& command) {
  CLI::App* k = app.add_subcommand("kernel", "kernels in the state dir");
  k->require_subcommand(1);
  Verb(k, c, command, "list", "list stored kernels", KernelList);
  NamedVerb(k, c, command, "show", "details and files of a kernel", KernelShow);
  NamedVerb(k, c, command, "rm", "remove a kernel no VM uses", KernelRm);
  Verb(k, c, command, "catalog", "kernels the catalog offers, and which are pulled",
       KernelCatalog);
  CLI::App* i = app.add_subcommand("image", "images in the state dir");
  i->require_subcommand(1);
  Verb(i, c, command, "list", "list images", ImageList);
  NamedVerb(i, c, command, "show", "details of an image", ImageShow);
  NamedVerb(i, c, command, "rm", "remove an image no VM uses", ImageRm);
  AddImagePullCommand(i, c, command);
}

}  // namespace banger::cli
