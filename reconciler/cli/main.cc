#include "reconciler/cli/cli.h"
#include "reconciler/os/process_title.h"

int main(int argc, char** argv) {
  // Before anything reads the environment or starts a thread: processes
  // forked from the CLI (the console loggers) retitle themselves.
  banger::InitProcessTitle(argc, argv);
  return banger::cli::Main(argc, argv);
}
