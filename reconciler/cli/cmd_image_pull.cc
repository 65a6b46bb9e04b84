// banger image pull REF [--name N]: the imperative way to get an OCI image.
//
// The image is built exactly as an `oci = REF` entry in a spec would be,
// but recorded with origin "cli", so apply never prunes it. Pulling the
// same reference again re-pulls only when the tag moved.
#include <chrono>

#include "reconciler/cli/apply_flow.h"
#include "reconciler/cli/cli.h"
#include "reconciler/cli/session.h"
#include "reconciler/cli/transfer_view.h"
#include "reconciler/oci/oci_image_source.h"
#include "reconciler/oci/reference.h"
#include "specs/loader.h"
#include "specs/value_rules.h"

namespace banger::cli {
namespace {

struct PullArgs {
  std::string reference;
  std::string name;
  std::string platform = "linux/amd64";
  bool insecure = false;
  StateArgs state;
};

std::string Short(const std::string& digest) { return digest.substr(0, 19); }

// Whether an existing record stands in the way; sets `up_to_date` when
// the record already holds what the reference names now.
Status CheckExisting(Session& s, const model::ImageRecord& old, const specs::ImageSpec& spec,
                     bool& up_to_date) {
  const std::string& name = spec.name;
  if (old.origin == model::Origin::kSpec)
    return Error(Code::kAlreadyExists, "image " + Quote(name) +
                         " is declared in a spec; pull under another name with --name");
  if (old.spec.oci != spec.oci || old.spec.platform != spec.platform)
    return Error(Code::kAlreadyExists, "image " + Quote(name) + " was pulled from " + Quote(old.spec.oci) +
                         " (" + old.spec.platform + "); remove it first (`banger image rm " +
                         name + "`) or pick another --name");
  BANGER_ASSIGN_OR_RETURN(std::string current, oci::CurrentManifestDigest(spec));
  if ((current.empty() || current == old.digest) && s.runtime.images->Present(old)) {
    up_to_date = true;
    return OkStatus();
  }
  auto users = VmsUsing(*s.snapshot, name, ArtifactKind::kImage);
  if (!users.empty())
    return FailedPrecondition("image " + Quote(name) + " moved to " + current +
                              " but vm " + Quote(users[0]) +
                              " uses it; remove the VM first to re-pull");
  return OkStatus();
}

int Pull(Console& c, const PullArgs& args) {
  auto ref = oci::ParseReference(args.reference);
  if (!ref.ok()) return Fail(c, ref.error());
  if (auto platform = oci::Platform::Parse(args.platform); !platform.ok())
    return Fail(c, platform.error().WithContext("--platform"));
  specs::ImageSpec spec;
  spec.name = args.name.empty() ? oci::DefaultImageName(*ref) : args.name;
  if (Status st = specs::CheckName(spec.name); !st.ok())
    return Fail(c, st.error().WithContext("--name"));
  spec.source = specs::ImageSource::kOci;
  spec.oci = args.reference;
  spec.platform = args.platform;
  spec.insecure = args.insecure;

  auto session = OpenState(args.state);
  if (!session.ok()) return Fail(c, session.error());
  auto lock = LockStateDir(session->paths);
  if (!lock.ok()) return Fail(c, lock.error());
  session->snapshot = session->store->Load();
  if (!session->snapshot.ok()) return Fail(c, session->snapshot.error());

  const std::string address = "image." + spec.name;
  std::optional<model::ImageRecord> old;
  if (auto it = session->snapshot->images.find(spec.name); it != session->snapshot->images.end()) {
    old = it->second;
    bool up_to_date = false;
    if (Status st = CheckExisting(*session, *old, spec, up_to_date); !st.ok())
      return Fail(c, st.error());
    if (up_to_date) {
      c.out << address << ": up to date (" << Short(old->digest) << ")\n";
      return kExitOk;
    }
  }

  auto started = std::chrono::steady_clock::now();
  TransferView view(c, address + ": ");
  view.Note("pulling " + ref->ToString() + " (" + spec.platform + ")");
  auto built = session->runtime.images->Build(spec, view);
  view.Finish();
  if (!built.ok()) return Fail(c, built.error().WithContext("image pull " + Quote(spec.oci)));
  model::ImageRecord rec = std::move(built).value();
  rec.spec = spec;
  rec.origin = model::Origin::kCli;
  if (Status st = session->store->PutImage(rec); !st.ok()) {
    // Never leave a built image that no record names.
    (void)session->runtime.images->Remove(rec);
    return Fail(c, st.error());
  }
  if (old && old->dir != rec.dir) {
    if (Status st = session->runtime.images->Remove(*old); !st.ok())
      c.err << "banger: warning: old build of " << address
            << " left behind: " << st.error().message() << "\n";
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  char took[32];
  snprintf(took, sizeof took, "%.1fs", secs);
  c.out << address << ": pulled " << Short(rec.digest) << ", rootfs "
        << specs::FormatSize(rec.rootfs_bytes) << " in " << took << "\n";
  return kExitOk;
}

}  // namespace

void AddImagePullCommand(CLI::App* image, Console& c, Command& command) {
  auto args = std::make_shared<PullArgs>();
  CLI::App* cmd = image->add_subcommand(
      "pull", "pull an OCI image (e.g. docker.io/library/debian:bookworm) into the state dir");
  cmd->add_option("reference", args->reference, "image reference: [registry/]repo[:tag][@digest]")
      ->required();
  cmd->add_option("--name", args->name, "image name (default: from the reference, e.g. debian-bookworm)");
  cmd->add_option("--platform", args->platform, "platform to select from an index")
      ->capture_default_str();
  cmd->add_flag("--insecure", args->insecure,
                "allow plain http to a registry that is not on loopback");
  AddStateOptions(cmd, args->state);
  cmd->callback([&c, &command, args] { command.run = [&c, args] { return Pull(c, *args); }; });
}

}  // namespace banger::cli
