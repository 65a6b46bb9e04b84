// banger kernel list|show|rm|catalog and banger image list|show|rm: the
// artifacts in the state dir. Data verbs print a table or "key: value"
// lines, and JSON with --json (list: an array of the list's rows as
// objects; show: one object).
#include <ctime>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "reconciler/cli/cli.h"
#include "reconciler/cli/field_view.h"
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

struct ArtifactArgs {
  std::string name;
  bool json = false;
  StateArgs state;
};

Result<Session> Open(const ArtifactArgs& args) {
  BANGER_ASSIGN_OR_RETURN(Session s, OpenState(args.state));
  if (!s.snapshot.ok()) return s.snapshot.error();
  return s;
}

nlohmann::json KernelRow(const std::string& name, const model::KernelRecord& rec) {
  return {{"name", name}, {"version", rec.version}, {"digest", rec.digest},
          {"created", Date(rec.created_unix)}, {"source", SourceOf(rec.spec)},
          {"origin", model::OriginName(rec.origin)}};
}

nlohmann::json ImageRow(const std::string& name, const model::ImageRecord& rec) {
  return {{"name", name}, {"digest", rec.digest}, {"rootfs_bytes", rec.rootfs_bytes},
          {"created", Date(rec.created_unix)}, {"source", SourceOf(rec.spec)},
          {"origin", model::OriginName(rec.origin)}};
}

// Nothing to list: say where banger looked (stderr; stdout stays a table).
bool ReportEmpty(Console& c, const Session& s, size_t count, const char* what) {
  if (count != 0) return false;
  c.err << "no " << what << " in " << DescribeStateDir(s) << "\n";
  return true;
}

int KernelList(Console& c, const ArtifactArgs& args) {
  auto s = Open(args);
  if (!s.ok()) return Fail(c, s.error());
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [name, rec] : s->snapshot->kernels) out.push_back(KernelRow(name, rec));
    c.out << out.dump(2) << "\n";
    return kExitOk;
  }
  if (ReportEmpty(c, *s, s->snapshot->kernels.size(), "kernels")) return kExitOk;
  c.out << std::left << std::setw(16) << "NAME" << std::setw(26) << "VERSION" << std::setw(14)
        << "DIGEST" << std::setw(18) << "CREATED" << "SOURCE\n";
  for (const auto& [name, rec] : s->snapshot->kernels) {
    c.out << std::left << std::setw(16) << name << std::setw(26) << rec.version << std::setw(14)
          << Short(rec.digest) << std::setw(18) << Date(rec.created_unix) << SourceOf(rec.spec)
          << "\n";
  }
  return kExitOk;
}

int KernelShow(Console& c, const ArtifactArgs& args) {
  const std::string& name = args.name;
  auto s = Open(args);
  if (!s.ok()) return Fail(c, s.error());
  auto it = s->snapshot->kernels.find(name);
  if (it == s->snapshot->kernels.end()) return Fail(c, NotFoundInState(*s, "kernel", name));
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
  if (args.json) c.out << j.dump(2) << "\n";
  else PrintFields(c, j);
  return kExitOk;
}

int KernelRm(Console& c, const ArtifactArgs& args) {
  const std::string& name = args.name;
  auto s = Open(args);
  if (!s.ok()) return Fail(c, s.error());
  auto it = s->snapshot->kernels.find(name);
  if (it == s->snapshot->kernels.end()) return Fail(c, NotFoundInState(*s, "kernel", name));
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

int KernelCatalog(Console& c, const ArtifactArgs& args) {
  auto s = Open(args);
  if (!s.ok()) return Fail(c, s.error());
  const auto& settings = s->snapshot->settings;
  auto catalog = kernel::LoadCatalog(settings ? settings->kernel_catalog : "");
  if (!catalog.ok()) return Fail(c, catalog.error());
  auto pulled_name = [&](const std::string& entry) {
    for (const auto& [name, rec] : s->snapshot->kernels)
      if (rec.spec.source == specs::KernelSource::kCatalog && rec.spec.catalog == entry)
        return name;
    return std::string();
  };
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : *catalog)
      out.push_back({{"name", e.name}, {"version", e.version}, {"origin", e.origin},
                     {"pulled_as", pulled_name(e.name)}});
    c.out << out.dump(2) << "\n";
    return kExitOk;
  }
  c.out << std::left << std::setw(32) << "NAME" << std::setw(28) << "VERSION" << std::setw(8)
        << "PULLED" << "ORIGIN\n";
  for (const auto& e : *catalog) {
    const bool pulled = !pulled_name(e.name).empty();
    c.out << std::left << std::setw(32) << e.name << std::setw(28) << e.version << std::setw(8)
          << (pulled ? "yes" : "no") << e.origin << "\n";
  }
  return kExitOk;
}

int ImageList(Console& c, const ArtifactArgs& args) {
  auto s = Open(args);
  if (!s.ok()) return Fail(c, s.error());
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [name, rec] : s->snapshot->images) out.push_back(ImageRow(name, rec));
    c.out << out.dump(2) << "\n";
    return kExitOk;
  }
  if (ReportEmpty(c, *s, s->snapshot->images.size(), "images")) return kExitOk;
  c.out << std::left << std::setw(20) << "NAME" << std::setw(10) << "ROOTFS" << std::setw(18)
        << "CREATED" << "SOURCE\n";
  for (const auto& [name, rec] : s->snapshot->images) {
    c.out << std::left << std::setw(20) << name << std::setw(10)
          << specs::FormatSize(rec.rootfs_bytes) << std::setw(18) << Date(rec.created_unix)
          << SourceOf(rec.spec) << "\n";
  }
  return kExitOk;
}

int ImageShow(Console& c, const ArtifactArgs& args) {
  const std::string& name = args.name;
  auto s = Open(args);
  if (!s.ok()) return Fail(c, s.error());
  auto it = s->snapshot->images.find(name);
  if (it == s->snapshot->images.end()) return Fail(c, NotFoundInState(*s, "image", name));
  const auto& rec = it->second;
  nlohmann::json j = {{"name", name}, {"digest", rec.digest}, {"dir", rec.dir},
                      {"rootfs_bytes", rec.rootfs_bytes},
                      {"origin", model::OriginName(rec.origin)},
                      {"created", Date(rec.created_unix)}, {"spec", specs::ToJson(rec.spec)},
                      {"used_by", VmsUsing(*s->snapshot, name, ArtifactKind::kImage)},
                      {"present", s->runtime.images->Present(rec)}};
  if (args.json) c.out << j.dump(2) << "\n";
  else PrintFields(c, j);
  return kExitOk;
}

int ImageRm(Console& c, const ArtifactArgs& args) {
  const std::string& name = args.name;
  auto s = Open(args);
  if (!s.ok()) return Fail(c, s.error());
  auto it = s->snapshot->images.find(name);
  if (it == s->snapshot->images.end()) return Fail(c, NotFoundInState(*s, "image", name));
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

enum VerbShape { kNoName = 0, kNamed = 1, kJson = 2 };

void Verb(CLI::App* parent, Console& c, Command& command, const char* name, const char* help,
          int shape, int (*fn)(Console&, const ArtifactArgs&)) {
  auto args = std::make_shared<ArtifactArgs>();
  CLI::App* cmd = parent->add_subcommand(name, help);
  if (shape & kNamed) cmd->add_option("name", args->name, "name")->required();
  if (shape & kJson) cmd->add_flag("--json", args->json, "JSON output");
  AddStateOptions(cmd, args->state);
  cmd->callback([&c, &command, fn, args] {
    command.run = [&c, fn, args] { return fn(c, *args); };
  });
}

}  // namespace

void AddArtifactCommands(CLI::App& app, Console& c, Command& command) {
  CLI::App* k = app.add_subcommand("kernel", "kernels in the state dir");
  k->require_subcommand(1);
  Verb(k, c, command, "list", "list stored kernels", kJson, KernelList);
  Verb(k, c, command, "show", "details and files of a kernel", kNamed | kJson, KernelShow);
  Verb(k, c, command, "rm", "remove a kernel no VM uses", kNamed, KernelRm);
  Verb(k, c, command, "catalog", "kernels the catalog offers, and which are pulled", kJson,
       KernelCatalog);
  CLI::App* i = app.add_subcommand("image", "images in the state dir");
  i->require_subcommand(1);
  Verb(i, c, command, "list", "list images", kJson, ImageList);
  Verb(i, c, command, "show", "details of an image", kNamed | kJson, ImageShow);
  Verb(i, c, command, "rm", "remove an image no VM uses", kNamed, ImageRm);
  AddImagePullCommand(i, c, command);
}

}  // namespace banger::cli
