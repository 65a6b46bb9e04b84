#include "helper/tun_device.h"

#include <fcntl.h>
#include <net/if.h>  // before any linux/ header: ifreq, if_nametoindex
#include <linux/if_tun.h>
#include <sys/ioctl.h>

#include <cstring>

namespace banger::helper {

namespace {

constexpr short kTapFlags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;

// Opens /dev/net/tun and binds it to `name`; TUNSETIFF creates the device
// when it does not exist, which callers rule out or rely on as documented.
Result<UniqueFd> Attach(const std::string& name, const std::string& what) {
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) return Error::FromErrno(what + ": open /dev/net/tun");
  UniqueFd owned(fd);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  ifr.ifr_flags = kTapFlags;
  if (ioctl(fd, TUNSETIFF, &ifr) != 0) return Error::FromErrno(what);
  return owned;
}

}  // namespace

Result<UniqueFd> CreatePersistentTap(const std::string& name, uid_t owner) {
  std::string what = "create tap " + Quote(name);
  if (if_nametoindex(name.c_str()) != 0) {
    return Error(Code::kAlreadyExists, what + ": a link of that name exists");
  }
  BANGER_ASSIGN_OR_RETURN(UniqueFd fd, Attach(name, what));
  // Ownership first: from TUNSETPERSIST on the device outlives this fd, and
  // it must never exist persistently with the wrong owner.
  if (ioctl(fd.get(), TUNSETOWNER, static_cast<unsigned long>(owner)) != 0) {
    return Error::FromErrno(what + ": set owner " + std::to_string(owner));
  }
  if (ioctl(fd.get(), TUNSETPERSIST, 1UL) != 0) {
    return Error::FromErrno(what + ": make persistent");
  }
  return fd;
}

Result<UniqueFd> OpenTap(const std::string& name) {
  std::string what = "open tap " + Quote(name);
  if (if_nametoindex(name.c_str()) == 0) {
    return Error(Code::kNotFound, what + ": no such link");
  }
  auto fd = Attach(name, what);
  if (!fd.ok() && fd.error().sys_errno() == EBUSY) {
    return Error(Code::kBusy, what + ": already attached to another process (a running VM?)",
                 EBUSY);
  }
  return fd;
}

Result<std::string> TapNameOf(int fd) {
  ifreq ifr{};
  if (ioctl(fd, TUNGETIFF, &ifr) != 0) return Error::FromErrno("query tap fd");
  return std::string(ifr.ifr_name);
}

}  // namespace banger::helper
