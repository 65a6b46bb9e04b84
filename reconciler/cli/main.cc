#include "reconciler/cli/cli.h"

int main(int argc, char** argv) { return banger::cli::Main(argc, argv); }
