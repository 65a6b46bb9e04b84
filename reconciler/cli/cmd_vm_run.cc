// banger vm run [PATH] [--name N] [--image I] [--kernel K] [--vcpus N]
//               [--memory M] [--disk D] [--nat] [--rm] [--branch B | --from REF]
//               [-- CMD ARGS...]
//
// A VM outside any spec (origin cli: listed, never pruned by apply), made
// through the same VmRuntime as apply, with PATH imported into /root/repo
// and CMD run there; exits with CMD's status. With no image or kernel from
// the flags or the user config, the built-in recipe's are built on first
// use (origin cli) and reused from the store afterwards.
#include <unistd.h>

#include <ctime>
#include <random>

#include "reconciler/apply/vm_inputs.h"
#include "reconciler/cli/agent_exec_flow.h"
#include "reconciler/cli/cli.h"
#include "reconciler/cli/session.h"
#include "reconciler/os/file_lock.h"
#include "reconciler/os/fs.h"
#include "reconciler/os/owned_dir.h"
#include "reconciler/workspace/guest_workspace.h"
#include "reconciler/cli/apply_flow.h"
#include "reconciler/cli/transfer_view.h"
#include "specs/builtin_recipe.h"
#include "specs/loader.h"
#include "specs/user_config.h"
#include "specs/value_rules.h"

namespace banger::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct RunArgs {
  std::string path = ".";
  std::string name;
  std::string image;
  std::string kernel;
  int vcpus = 2;
  std::string memory = "1G";
  std::string disk = "4G";
  bool nat = false;
  bool remove = false;
  std::string branch;
  std::string from;
  std::vector<std::string> command;
  StateArgs state;
};

// Build and boot notes go to stderr: stdout is the command's.
class RunProgress : public apply::StepProgress {
 public:
  RunProgress(Console& console, std::string name) : console_(console), name_(std::move(name)) {}
  void Note(std::string_view message) override {
    console_.err << "vm." << name_ << ": " << message << std::endl;
  }

 private:
  Console& console_;
  std::string name_;
};

std::string GeneratedName() {
  std::random_device rd;
  static const char kHex[] = "0123456789abcdef";
  std::string name = "run-";
  for (int i = 0; i < 6; ++i) name.push_back(kHex[rd() % 16]);
  return name;
}

// The VM spec from the flags and the user config; every problem is named
// before anything is built.
Result<specs::VmSpec> RunSpec(const RunArgs& args, specs::RunArtifacts* artifacts) {
  specs::VmSpec spec;
  spec.name = args.name.empty() ? GeneratedName() : args.name;
  BANGER_RETURN_IF_ERROR(specs::CheckName(spec.name));
  BANGER_ASSIGN_OR_RETURN(specs::UserConfig config, specs::LoadUserConfig(specs::UserConfigPath()));
  *artifacts = specs::ChooseRunArtifacts(args.image, args.kernel, config);
  spec.image = artifacts->image.name;
  spec.kernel = artifacts->kernel.name;
  BANGER_RETURN_IF_ERROR(specs::CheckName(spec.image));
  BANGER_RETURN_IF_ERROR(specs::CheckName(spec.kernel));
  if (args.vcpus < 1 || args.vcpus > 64) return InvalidArgument("--vcpus " + std::to_string(args.vcpus) + ": expected 1..64");
  spec.vcpus = args.vcpus;
  BANGER_ASSIGN_OR_RETURN(spec.memory, specs::ParseSize(args.memory));
  BANGER_ASSIGN_OR_RETURN(spec.disk, specs::ParseSize(args.disk));
  spec.nat = args.nat;
  spec.keep_work_disk = false;
  return spec;
}

class RunFlow {
 public:
  RunFlow(Console& console, Session& session, const RunArgs& args, specs::VmSpec spec,
          specs::RunArtifacts artifacts)
      : console_(console), s_(session), args_(args), spec_(std::move(spec)),
        artifacts_(std::move(artifacts)), progress_(console, spec_.name) {}
  ~RunFlow() {
    if (created_ && args_.remove) {
      Status st = Remove();
      if (!st.ok()) Fail(console_, st.error().WithContext("remove vm " + Quote(spec_.name)));
    }
  }

  Status Create() {
    BANGER_ASSIGN_OR_RETURN(model::StoreSnapshot snap, s_.store->Load());
    if (snap.vms.count(spec_.name))
      return Error(Code::kAlreadyExists, "vm " + Quote(spec_.name) + " already exists in " +
                                             DescribeStateDir(s_));
    if (artifacts_.image.builtin || artifacts_.kernel.builtin) {
      BANGER_RETURN_IF_ERROR(BuildBuiltins(snap));
      BANGER_ASSIGN_OR_RETURN(snap, s_.store->Load());
    }
    BANGER_ASSIGN_OR_RETURN(apply::VmInputs inputs, apply::ResolveVmInputs(spec_, snap, nullptr));
    BANGER_RETURN_IF_ERROR(MakeDirs(s_.paths.locks_dir(), 0700));
    BANGER_ASSIGN_OR_RETURN(lock_, FileLock::Acquire(s_.paths.vm_lock(spec_.name)));
    record_.spec = spec_;
    record_.origin = model::Origin::kCli;
    record_.power = model::PowerIntent::kRunning;
    record_.created_unix = static_cast<int64_t>(time(nullptr));
    record_.kernel_digest = inputs.kernel.digest;
    record_.image_digest = inputs.image.digest;
    BANGER_ASSIGN_OR_RETURN(record_.ip, s_.store->AllocateAddress(spec_.name, inputs.settings.subnet));
    Status st = s_.runtime.vms->Create(record_, inputs, progress_);
    if (!st.ok()) {
      (void)s_.store->ReleaseAddress(spec_.name);
      return st;
    }
    created_ = true;
    BANGER_RETURN_IF_ERROR(s_.store->PutVm(record_));
    return RefreshSshConfig(s_);
  }

  Status Import(const workspace::ImportPlan& plan) {
    BANGER_ASSIGN_OR_RETURN(model::VmLiveness live, s_.runtime.vms->Observe(spec_.name));
    BANGER_ASSIGN_OR_RETURN(agentclient::AgentEndpoint endpoint, agentclient::EndpointFor(live.handles));
    handles_ = live.handles;
    const auto deadline = Clock::now() + std::chrono::hours(1);
    BANGER_ASSIGN_OR_RETURN(agentclient::AgentClient client, agentclient::AgentClient::Connect(endpoint, deadline));
    BANGER_RETURN_IF_ERROR(workspace::CheckGuestTarget(client, plan.total_bytes, deadline));
    return workspace::SendImport(client, plan, deadline);
  }

  Result<int> Exec() {
    ExecOptions options;
    options.cwd = workspace::kGuestRepo;
    options.argv = args_.command;
    if (options.argv.empty()) {
      // A fixed script: the login shell the image has.
      options.argv = {"sh", "-c", "if command -v bash >/dev/null; then exec bash -l; fi; exec sh -l"};
      options.tty = console_.in_tty;
    }
    return ExecViaAgent(console_, handles_, options, std::chrono::seconds(30));
  }

 private:
  // Builds what the built-in recipe gives and the store does not hold yet
  // (origin cli, so apply never prunes it), under the state dir's lock.
  // Progress goes to stderr: stdout is the command's.
  Status BuildBuiltins(const model::StoreSnapshot& snap) {
    const bool kernel = artifacts_.kernel.builtin && !snap.kernels.count(artifacts_.kernel.name);
    const bool image = artifacts_.image.builtin && !snap.images.count(artifacts_.image.name);
    if (!kernel && !image) return OkStatus();
    BANGER_ASSIGN_OR_RETURN(specs::DesiredState recipe, specs::BuiltinRecipe());
    BANGER_ASSIGN_OR_RETURN(FileLock state_lock, LockStateDir(s_.paths));
    Console to_stderr{console_.err, console_.err};
    to_stderr.out_tty = isatty(STDERR_FILENO);
    if (kernel) {
      const specs::KernelSpec& spec = recipe.kernels[0];
      TransferView view(to_stderr, "kernel." + spec.name + ": ");
      view.Note("building the built-in kernel (Debian's " + spec.deb + "); once, then it is reused");
      auto built = s_.runtime.kernels->Build(spec, snap.settings.value_or(specs::Settings{}), view);
      view.Finish();
      if (!built.ok()) return std::move(built).error().WithContext("built-in kernel " + Quote(spec.name));
      model::KernelRecord rec = std::move(built).value();
      rec.spec = spec;
      rec.origin = model::Origin::kCli;
      if (Status st = s_.store->PutKernel(rec); !st.ok()) {
        (void)s_.runtime.kernels->Remove(rec);
        return st;
      }
    }
    if (image) {
      const specs::ImageSpec& spec = recipe.images[0];
      TransferView view(to_stderr, "image." + spec.name + ": ");
      view.Note("building the built-in image (Debian " + spec.suite + " with git and openssh-server); "
                "once, then it is reused");
      auto built = s_.runtime.images->Build(spec, view);
      view.Finish();
      if (!built.ok()) return std::move(built).error().WithContext("built-in image " + Quote(spec.name));
      model::ImageRecord rec = std::move(built).value();
      rec.spec = spec;
      rec.origin = model::Origin::kCli;
      if (Status st = s_.store->PutImage(rec); !st.ok()) {
        (void)s_.runtime.images->Remove(rec);
        return st;
      }
    }
    return OkStatus();
  }

  Status Remove() {
    BANGER_RETURN_IF_ERROR(s_.runtime.vms->Destroy(record_, /*keep_work_disk=*/false, progress_));
    BANGER_RETURN_IF_ERROR(s_.store->DeleteVm(spec_.name));
    return RefreshSshConfig(s_);
  }

  Console& console_;
  Session& s_;
  const RunArgs& args_;
  specs::VmSpec spec_;
  specs::RunArtifacts artifacts_;
  RunProgress progress_;
  FileLock lock_;
  model::VmRecord record_;
  model::VmHandles handles_;
  bool created_ = false;
};

int RunVmRun(Console& console, const RunArgs& args) {
  specs::RunArtifacts artifacts;
  auto spec = RunSpec(args, &artifacts);
  if (!spec.ok()) return Fail(console, spec.error());
  workspace::ImportOptions options;
  options.path = args.path;
  options.branch = args.branch;
  options.from = args.from;
  auto plan = workspace::BuildImport(SystemRunner(), options, HostTempParent());
  if (!plan.ok()) return Fail(console, plan.error());
  if (plan->total_bytes >= spec->disk)
    return Fail(console, InvalidArgument("vm run: " + Quote(plan->source) + " is " +
                                         std::to_string(plan->total_bytes >> 20) +
                                         " MiB, more than the VM's disk (--disk " + args.disk + ")"));
  auto s = OpenState(args.state);
  if (!s.ok()) return Fail(console, s.error());
  const std::string where = "vm " + Quote(spec->name);
  RunFlow flow(console, *s, args, *spec, artifacts);
  if (Status st = flow.Create(); !st.ok()) return Fail(console, st.error().WithContext(where));
  if (Status st = flow.Import(*plan); !st.ok()) return Fail(console, st.error().WithContext(where));
  console.err << "vm." << spec->name << ": " << plan->source << " imported into "
              << workspace::kGuestRepo << "\n";
  auto code = flow.Exec();
  if (!code.ok()) return Fail(console, code.error().WithContext(where));
  return *code;
}

}  // namespace

void AddVmRunCommand(CLI::App* vm, Console& console, Command& command) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* run = vm->add_subcommand(
      "run",
      "create a VM outside any spec (origin cli), import PATH into /root/repo and run CMD "
      "there (a login shell when none is given); exits with CMD's status");
  run->add_option("path", args->path, "repository or directory to import (default .)");
  run->add_option("--name", args->name, "VM name (default run-XXXXXX)");
  run->add_option("--image", args->image,
                  "image (default: default_image in the user config, else the built-in "
                  "Debian bookworm image with git)");
  run->add_option("--kernel", args->kernel,
                  "kernel (default: default_kernel in the user config, else Debian's cloud kernel)");
  run->add_option("--vcpus", args->vcpus, "virtual CPUs")->default_val(2);
  run->add_option("--memory", args->memory, "memory size")->default_val("1G");
  run->add_option("--disk", args->disk, "size of the /root work disk")->default_val("4G");
  run->add_flag("--nat", args->nat, "give the VM outbound NAT");
  run->add_flag("--rm", args->remove, "delete the VM when the command exits");
  auto* branch = run->add_option("--branch", args->branch, "import this branch instead of HEAD and the working tree");
  run->add_option("--from", args->from, "import this commit (any ref) instead of HEAD and the working tree")
      ->excludes(branch);
  AddStateOptions(run, args->state);
  run->callback([&console, &command, args] {
    // Only the words after `--` are the command, so PATH may be left out.
    command.take_trailing = [args](std::vector<std::string> words) { args->command = std::move(words); };
    command.run = [&console, args] { return RunVmRun(console, *args); };
  });
}

}  // namespace banger::cli
