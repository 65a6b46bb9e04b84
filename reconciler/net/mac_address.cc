#include "reconciler/net/mac_address.h"

#include <cstdint>
#include <cstdio>

namespace banger::net {

std::string MacAddressForVm(std::string_view vm_name) {
  uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis
  for (unsigned char c : vm_name) {
    hash ^= c;
    hash *= 0x100000001b3ULL;  // FNV-1a 64 prime
  }
  char buf[18];
  std::snprintf(buf, sizeof buf, "02:%02x:%02x:%02x:%02x:%02x",
                static_cast<unsigned>((hash >> 56) & 0xff),
                static_cast<unsigned>((hash >> 48) & 0xff),
                static_cast<unsigned>((hash >> 40) & 0xff),
                static_cast<unsigned>((hash >> 32) & 0xff),
                static_cast<unsigned>((hash >> 24) & 0xff));
  return buf;
}

}  // namespace banger::net
