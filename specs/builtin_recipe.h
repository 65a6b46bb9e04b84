// The kernel and image `vm run` boots when neither its flags nor the user
// config name one: Debian bookworm with git and openssh-server, and
// Debian's cloud kernel. The recipe is a spec fragment, decoded like any
// spec file, so it is built by the same kernel and image sources.
#pragma once

#include <string>

#include "reconciler/base/error.h"
#include "specs/desired.h"
#include "specs/user_config.h"

namespace banger::specs {

inline constexpr char kBuiltinKernel[] = "builtin-cloud";
inline constexpr char kBuiltinImage[] = "builtin-bookworm";

// The recipe's text (TOML in the spec format).
const char* BuiltinRecipeText();

// The recipe decoded: one kernel (kBuiltinKernel) and one image
// (kBuiltinImage).
Result<DesiredState> BuiltinRecipe();

// One of the two things `vm run` boots, and where its name came from.
struct RunArtifact {
  std::string name;
  bool builtin = false;  // from the built-in recipe (built on first use)
};

struct RunArtifacts {
  RunArtifact image;
  RunArtifact kernel;
};

// --image/--kernel first, then default_image/default_kernel from `config`,
// then the built-in recipe; image and kernel are chosen apart.
RunArtifacts ChooseRunArtifacts(const std::string& image_flag, const std::string& kernel_flag,
                                const UserConfig& config);

}  // namespace banger::specs
