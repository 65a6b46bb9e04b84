// The Catch2 main: its own translation unit because it is slow to compile.
// It starts like the CLI's main, so processes a test forks retitle
// themselves as they do under the real binary.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "reconciler/os/process_title.h"

int main(int argc, char** argv) {
  banger::InitProcessTitle(argc, argv);
  return Catch::Session().run(argc, argv);
}
