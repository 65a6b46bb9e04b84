// The guest initramfs /init script (guest/initramfs/init), compiled into
// banger so a built binary needs no data files to make initramfs images.
#pragma once

#include <string_view>

namespace banger::kernel {

std::string_view InitramfsInitScript();

}  // namespace banger::kernel
