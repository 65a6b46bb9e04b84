// MAC addresses for guest NICs, derived from the VM name so a VM keeps its
// address (and its DHCP lease, its ARP entries) across restarts and
// re-creation.
#pragma once

#include <string>
#include <string_view>

namespace banger::net {

// "02:xx:xx:xx:xx:xx": locally administered, unicast; the other five bytes
// are the first five of the 64-bit FNV-1a hash of `vm_name`. The hash is
// fixed here forever: changing it would change every VM's address.
std::string MacAddressForVm(std::string_view vm_name);

}  // namespace banger::net
