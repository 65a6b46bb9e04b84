// Reading /proc/net tables for sockets bound on published host ports.
#include <catch2/catch.hpp>

#include <arpa/inet.h>

#include "reconciler/observe/bound_sockets.h"

using banger::observe::ParseProcNet;

TEST_CASE("TCP listeners on the wanted ports are read from /proc/net/tcp") {
  // 0100007F is 127.0.0.1 as a little-endian host prints it; 1F90 = 8080.
  std::string text =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
      "timeout inode\n"
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000  "
      "      0 4242 1 0000000000000000 100 0 0 10 0\n"
      "   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0  "
      "      0 77 1 0000000000000000 100 0 0 10 0\n"
      "   2: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000  "
      "      0 99 1 0000000000000000 100 0 0 10 0\n"
      "   3: garbage\n";
  auto sockets = ParseProcNet(text, "tcp", false, {8080});
  REQUIRE(sockets.size() == 1);  // port 22 not wanted; the established one not a listener
  CHECK(sockets[0].socket.proto == "tcp");
  CHECK(sockets[0].socket.port == 8080);
  CHECK(sockets[0].inode == 4242);
  if (htonl(1) != 1) CHECK(sockets[0].socket.address == "127.0.0.1");
}

TEST_CASE("IPv6 wildcard and v4-mapped sockets count; other IPv6 ones do not") {
  std::string header = "  sl  local_address remote_address st tx rx tr tm retr uid timeout inode\n";
  std::string any = "   0: 00000000000000000000000000000000:1F90 "
                    "00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 "
                    "00000000     0        0 11 2 0000000000000000 0\n";
  std::string loopback6 = "   1: 00000000000000000000000001000000:1F90 "
                          "00000000000000000000000000000000:0000 07 00000000:00000000 "
                          "00:00000000 00000000     0        0 12 2 0000000000000000 0\n";
  auto sockets = ParseProcNet(header + any + loopback6, "udp", true, {8080});
  REQUIRE(sockets.size() == 1);
  CHECK(sockets[0].socket.address == "0.0.0.0");
  CHECK(sockets[0].socket.proto == "udp");
}
