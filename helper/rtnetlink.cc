#include "helper/rtnetlink.h"

#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>
#include <functional>
#include <vector>

namespace banger::helper {

namespace {

// Builds one netlink message: header, fixed payload, then attributes,
// with nesting tracked by offsets so the buffer may grow.
class MessageBuilder {
 public:
  MessageBuilder(uint16_t type, uint16_t flags) {
    Grow(NLMSG_HDRLEN);
    Header()->nlmsg_type = type;
    Header()->nlmsg_flags = flags | NLM_F_REQUEST | NLM_F_ACK;
  }

  template <typename T>
  T* Payload() {
    size_t at = buf_.size();
    Grow(NLMSG_ALIGN(sizeof(T)));
    return reinterpret_cast<T*>(buf_.data() + at);
  }

  void Attr(uint16_t type, const void* data, size_t len) {
    size_t at = buf_.size();
    Grow(RTA_SPACE(len));
    auto* rta = reinterpret_cast<rtattr*>(buf_.data() + at);
    rta->rta_type = type;
    rta->rta_len = static_cast<uint16_t>(RTA_LENGTH(len));
    if (len) std::memcpy(RTA_DATA(rta), data, len);
  }
  void AttrString(uint16_t type, const std::string& s) { Attr(type, s.c_str(), s.size() + 1); }
  void AttrU32(uint16_t type, uint32_t v) { Attr(type, &v, sizeof v); }

  size_t BeginNest(uint16_t type) {
    size_t at = buf_.size();
    Attr(type, nullptr, 0);
    return at;
  }
  void EndNest(size_t at) {
    reinterpret_cast<rtattr*>(buf_.data() + at)->rta_len =
        static_cast<uint16_t>(buf_.size() - at);
  }

  std::string Finish() {
    Header()->nlmsg_len = static_cast<uint32_t>(buf_.size());
    return std::string(buf_.data(), buf_.size());
  }

 private:
  nlmsghdr* Header() { return reinterpret_cast<nlmsghdr*>(buf_.data()); }
  void Grow(size_t n) { buf_.resize(buf_.size() + n, 0); }
  std::vector<char> buf_;
};

// Walks the attributes of a message payload.
void ForEachAttr(const rtattr* rta, int len, const std::function<void(const rtattr*)>& fn) {
  for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) fn(rta);
}

}  // namespace

Result<Rtnetlink> Rtnetlink::Open() {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return Error::FromErrno("open rtnetlink socket");
  UniqueFd owned(fd);
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    return Error::FromErrno("bind rtnetlink socket");
  }
  // A kernel that never answers must not hang a helper thread forever.
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return Rtnetlink(std::move(owned));
}

Status Rtnetlink::Transact(std::string& message, const std::string& what) {
  auto* hdr = reinterpret_cast<nlmsghdr*>(message.data());
  hdr->nlmsg_seq = seq_++;
  if (send(fd_.get(), message.data(), message.size(), 0) < 0) {
    return Error::FromErrno(what);
  }
  std::vector<char> buf(32768);
  for (;;) {
    ssize_t n = recv(fd_.get(), buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno(what);
    }
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, len);
         h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != hdr->nlmsg_seq) continue;
      if (h->nlmsg_type == NLMSG_ERROR) {
        auto* err = static_cast<nlmsgerr*>(NLMSG_DATA(h));
        if (err->error == 0) return OkStatus();
        return Error::FromErrno(what, -err->error);
      }
    }
  }
}

Result<std::optional<LinkInfo>> Rtnetlink::GetLink(const std::string& name) {
  MessageBuilder b(RTM_GETLINK, 0);
  b.Payload<ifinfomsg>()->ifi_family = AF_UNSPEC;
  b.AttrString(IFLA_IFNAME, name);
  std::string msg = b.Finish();
  auto* hdr = reinterpret_cast<nlmsghdr*>(msg.data());
  hdr->nlmsg_seq = seq_++;
  std::string what = "look up link " + Quote(name);
  if (send(fd_.get(), msg.data(), msg.size(), 0) < 0) return Error::FromErrno(what);

  std::vector<char> buf(65536);
  std::optional<LinkInfo> found;
  for (;;) {
    ssize_t n = recv(fd_.get(), buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno(what);
    }
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, len);
         h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != hdr->nlmsg_seq) continue;
      if (h->nlmsg_type == NLMSG_ERROR) {
        int err = -static_cast<nlmsgerr*>(NLMSG_DATA(h))->error;
        if (err == 0) return found;  // the ack after the reply
        if (err == ENODEV) return std::optional<LinkInfo>();
        return Error::FromErrno(what, err);
      }
      if (h->nlmsg_type != RTM_NEWLINK) continue;
      auto* ifi = static_cast<ifinfomsg*>(NLMSG_DATA(h));
      LinkInfo info;
      info.index = ifi->ifi_index;
      info.up = (ifi->ifi_flags & IFF_UP) != 0;
      ForEachAttr(IFLA_RTA(ifi), static_cast<int>(IFLA_PAYLOAD(h)), [&](const rtattr* a) {
        if (a->rta_type == IFLA_MASTER) {
          info.master = static_cast<int>(*static_cast<const uint32_t*>(RTA_DATA(a)));
        } else if (a->rta_type == IFLA_LINKINFO) {
          ForEachAttr(static_cast<const rtattr*>(RTA_DATA(a)),
                      static_cast<int>(RTA_PAYLOAD(a)), [&](const rtattr* li) {
                        if (li->rta_type == IFLA_INFO_KIND) {
                          info.kind = static_cast<const char*>(RTA_DATA(li));
                        }
                      });
        }
      });
      found = info;
    }
  }
}

Status Rtnetlink::CreateBridge(const std::string& name) {
  MessageBuilder b(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  b.Payload<ifinfomsg>()->ifi_family = AF_UNSPEC;
  b.AttrString(IFLA_IFNAME, name);
  size_t linkinfo = b.BeginNest(IFLA_LINKINFO);
  b.AttrString(IFLA_INFO_KIND, "bridge");
  b.EndNest(linkinfo);
  std::string msg = b.Finish();
  return Transact(msg, "create bridge " + Quote(name));
}

Status Rtnetlink::SetUp(int index) {
  MessageBuilder b(RTM_NEWLINK, 0);
  auto* ifi = b.Payload<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index;
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  std::string msg = b.Finish();
  return Transact(msg, "set link " + std::to_string(index) + " up");
}

Status Rtnetlink::SetMaster(int index, int master_index) {
  MessageBuilder b(RTM_NEWLINK, 0);
  auto* ifi = b.Payload<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index;
  b.AttrU32(IFLA_MASTER, static_cast<uint32_t>(master_index));
  std::string msg = b.Finish();
  return Transact(msg, "attach link " + std::to_string(index) + " to bridge " +
                           std::to_string(master_index));
}

Status Rtnetlink::DeleteLink(int index) {
  MessageBuilder b(RTM_DELLINK, 0);
  auto* ifi = b.Payload<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index;
  std::string msg = b.Finish();
  return Transact(msg, "delete link " + std::to_string(index));
}

Status Rtnetlink::ReplaceIpv4Addresses(int index, const Ipv4Cidr& cidr) {
  // Dump the link's IPv4 addresses first, so stale ones can be removed.
  struct Existing {
    uint32_t address;
    int prefix;
  };
  std::vector<Existing> existing;
  {
    MessageBuilder b(RTM_GETADDR, NLM_F_DUMP);
    b.Payload<ifaddrmsg>()->ifa_family = AF_INET;
    std::string msg = b.Finish();
    auto* hdr = reinterpret_cast<nlmsghdr*>(msg.data());
    hdr->nlmsg_flags &= ~NLM_F_ACK;
    hdr->nlmsg_seq = seq_++;
    if (send(fd_.get(), msg.data(), msg.size(), 0) < 0) {
      return Error::FromErrno("list addresses");
    }
    std::vector<char> buf(65536);
    bool done = false;
    while (!done) {
      ssize_t n = recv(fd_.get(), buf.data(), buf.size(), 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Error::FromErrno("list addresses");
      }
      int len = static_cast<int>(n);
      for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, len);
           h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_seq != hdr->nlmsg_seq) continue;
        if (h->nlmsg_type == NLMSG_DONE) {
          done = true;
          break;
        }
        if (h->nlmsg_type == NLMSG_ERROR) {
          return Error::FromErrno("list addresses",
                                  -static_cast<nlmsgerr*>(NLMSG_DATA(h))->error);
        }
        auto* ifa = static_cast<ifaddrmsg*>(NLMSG_DATA(h));
        if (static_cast<int>(ifa->ifa_index) != index || ifa->ifa_family != AF_INET) continue;
        ForEachAttr(IFA_RTA(ifa), static_cast<int>(IFA_PAYLOAD(h)), [&](const rtattr* a) {
          if (a->rta_type == IFA_LOCAL) {
            uint32_t be;
            std::memcpy(&be, RTA_DATA(a), sizeof be);
            existing.push_back({ntohl(be), ifa->ifa_prefixlen});
          }
        });
      }
    }
  }

  auto change = [&](uint16_t type, uint16_t flags, uint32_t address, int prefix) {
    MessageBuilder b(type, flags);
    auto* ifa = b.Payload<ifaddrmsg>();
    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = static_cast<unsigned char>(prefix);
    ifa->ifa_index = static_cast<uint32_t>(index);
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    uint32_t be = htonl(address);
    b.Attr(IFA_LOCAL, &be, sizeof be);
    b.Attr(IFA_ADDRESS, &be, sizeof be);
    if (type == RTM_NEWADDR) {
      Ipv4Cidr net{address, prefix};
      uint32_t brd = htonl(net.broadcast());
      b.Attr(IFA_BROADCAST, &brd, sizeof brd);
    }
    std::string msg = b.Finish();
    return Transact(msg, std::string(type == RTM_NEWADDR ? "add" : "remove") +
                             " address " + FormatIpv4(address) + "/" +
                             std::to_string(prefix));
  };

  bool present = false;
  for (const Existing& e : existing) {
    if (e.address == cidr.address && e.prefix == cidr.prefix) {
      present = true;
      continue;
    }
    BANGER_RETURN_IF_ERROR(change(RTM_DELADDR, 0, e.address, e.prefix));
  }
  if (present) return OkStatus();
  return change(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, cidr.address, cidr.prefix);
}

}  // namespace banger::helper
