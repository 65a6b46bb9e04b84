// banger-helper: the root helper binary. Everything lives in the library so
// `banger helper serve` runs the same code.
#include "helper/serve_command.h"

int main(int argc, char** argv) { return banger::helper::HelperMain(argc, argv); }
