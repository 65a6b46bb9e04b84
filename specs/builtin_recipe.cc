#include "specs/builtin_recipe.h"

#include "specs/loader.h"

namespace banger::specs {

// The package list matches the e2e tests' git image, so the debootstrap
// cache they fill serves this recipe too.
const char* BuiltinRecipeText() {
  return R"([[kernel]]
name = "builtin-cloud"
deb = "linux-image-cloud-amd64"

[[image]]
name = "builtin-bookworm"
debootstrap = { suite = "bookworm", include = ["openssh-server", "iproute2", "git"] }
)";
}

Result<DesiredState> BuiltinRecipe() {
  ParseOutcome out = ParseSpecText(BuiltinRecipeText(), "(built-in recipe)", "/");
  if (!out.ok()) return Internal("the built-in recipe does not decode: " + out.errors.front().ToString());
  if (out.state.kernels.size() != 1 || out.state.kernels[0].name != kBuiltinKernel ||
      out.state.images.size() != 1 || out.state.images[0].name != kBuiltinImage)
    return Internal("the built-in recipe does not hold exactly its kernel and image");
  return std::move(out.state);
}

RunArtifacts ChooseRunArtifacts(const std::string& image_flag, const std::string& kernel_flag,
                                const UserConfig& config) {
  auto choose = [](const std::string& flag, const std::string& configured, const char* builtin) {
    if (!flag.empty()) return RunArtifact{flag, false};
    if (!configured.empty()) return RunArtifact{configured, false};
    return RunArtifact{builtin, true};
  };
  return {choose(image_flag, config.default_image, kBuiltinImage),
          choose(kernel_flag, config.default_kernel, kBuiltinKernel)};
}

}  // namespace banger::specs
