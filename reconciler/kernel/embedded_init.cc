#include "reconciler/kernel/embedded_init.h"

// The assembler's .incbin copies the script into .rodata at build time. Its
// path is looked up in the include directories, which hold the repository
// root (GCC hands its -I options on to the assembler). The script is kept as
// a plain file so it can be read, linted and run on its own.
//
// Build systems do not see .incbin inputs as dependencies: the unit test
// "embedded init matches guest/initramfs/init" fails when the binary holds
// a stale copy.
asm(R"(
  .pushsection .rodata.banger_initramfs_init, "a", @progbits
  .balign 16
  .global banger_initramfs_init_begin
  .hidden banger_initramfs_init_begin
banger_initramfs_init_begin:
  .incbin "guest/initramfs/init"
  .global banger_initramfs_init_end
  .hidden banger_initramfs_init_end
banger_initramfs_init_end:
  .byte 0
  .popsection
)");

extern "C" const char banger_initramfs_init_begin[];
extern "C" const char banger_initramfs_init_end[];

namespace banger::kernel {

std::string_view InitramfsInitScript() {
  return std::string_view(banger_initramfs_init_begin,
                          static_cast<size_t>(banger_initramfs_init_end -
                                              banger_initramfs_init_begin));
}

}  // namespace banger::kernel
