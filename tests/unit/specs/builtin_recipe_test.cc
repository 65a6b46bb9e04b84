// `vm run`'s defaults: flags, then the user config, then the built-in
// recipe, which decodes as a spec with Debian's sources.
#include <catch2/catch.hpp>

#include "specs/builtin_recipe.h"

using namespace banger::specs;

TEST_CASE("the built-in recipe is chosen only when nothing names an image or kernel") {
  UserConfig none;
  RunArtifacts a = ChooseRunArtifacts("", "", none);
  CHECK(a.image.name == kBuiltinImage);
  CHECK(a.image.builtin);
  CHECK(a.kernel.name == kBuiltinKernel);
  CHECK(a.kernel.builtin);

  UserConfig config;
  config.default_image = "dev";
  a = ChooseRunArtifacts("", "", config);
  CHECK((a.image.name == "dev" && !a.image.builtin));
  CHECK((a.kernel.name == kBuiltinKernel && a.kernel.builtin));  // chosen apart

  config.default_kernel = "cloud";
  a = ChooseRunArtifacts("", "", config);
  CHECK((a.kernel.name == "cloud" && !a.kernel.builtin));

  a = ChooseRunArtifacts("other", "k2", config);  // flags before the config
  CHECK((a.image.name == "other" && !a.image.builtin));
  CHECK((a.kernel.name == "k2" && !a.kernel.builtin));
  a = ChooseRunArtifacts("", "k2", none);
  CHECK((a.image.builtin && a.kernel.name == "k2" && !a.kernel.builtin));
}

TEST_CASE("the built-in recipe is Debian bookworm with git and sshd, and Debian's cloud kernel") {
  auto recipe = BuiltinRecipe();
  REQUIRE(recipe.ok());
  REQUIRE(recipe->kernels.size() == 1);
  CHECK(recipe->kernels[0].source == KernelSource::kDeb);
  CHECK(recipe->kernels[0].deb == "linux-image-cloud-amd64");
  REQUIRE(recipe->images.size() == 1);
  const ImageSpec& image = recipe->images[0];
  CHECK(image.source == ImageSource::kDebootstrap);
  CHECK(image.suite == "bookworm");
  CHECK(image.include == std::vector<std::string>{"openssh-server", "iproute2", "git"});
  CHECK(recipe->vms.empty());
}
