// The bound-socket observation against the real kernel: a listener this
// test opens is found, with this process as its owner.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "reconciler/observe/bound_sockets.h"
#include "reconciler/os/unique_fd.h"

namespace banger {
namespace {

TEST_CASE("a TCP listener and a UDP socket on loopback are observed with their pid") {
  UniqueFd tcp(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  UniqueFd udp(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(tcp.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(listen(tcp.get(), 1) == 0);
  socklen_t len = sizeof a;
  REQUIRE(getsockname(tcp.get(), reinterpret_cast<sockaddr*>(&a), &len) == 0);
  const uint32_t port = ntohs(a.sin_port);
  // The same port number for UDP is free: TCP and UDP ports are separate.
  REQUIRE(bind(udp.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);

  auto sockets = observe::ReadBoundSockets({port});
  REQUIRE(sockets.size() == 2);
  for (const auto& s : sockets) {
    CHECK(s.address == "127.0.0.1");
    CHECK(s.port == port);
    CHECK(s.pid == getpid());
  }
  CHECK(sockets[0].proto == "tcp");
  CHECK(sockets[1].proto == "udp");

  tcp.Reset();
  udp.Reset();
  CHECK(observe::ReadBoundSockets({port}).empty());
}

}  // namespace
}  // namespace banger
