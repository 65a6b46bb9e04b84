#include "reconciler/system/dns_probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <random>
#include <string_view>

#include "reconciler/os/unique_fd.h"

namespace banger::system {
namespace {

std::string EncodeQuery(uint16_t id, const std::string& name) {
  std::string q;
  auto u16 = [&q](uint16_t v) {
    q.push_back(static_cast<char>(v >> 8));
    q.push_back(static_cast<char>(v & 0xff));
  };
  u16(id);
  u16(0x0100);  // a standard query, recursion desired
  u16(1);       // one question
  u16(0);
  u16(0);
  u16(0);
  std::string_view rest = name;
  while (!rest.empty()) {
    const size_t dot = rest.find('.');
    std::string_view label = rest.substr(0, dot);
    q.push_back(static_cast<char>(label.size()));
    q.append(label);
    rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
  }
  q.push_back(0);
  u16(1);  // A
  u16(1);  // IN
  return q;
}

}  // namespace

Result<int> ProbeDns(const std::string& server, const std::string& name,
                     std::chrono::milliseconds timeout) {
  const std::string what = "DNS query to " + server + ":53";
  for (size_t start = 0; start <= name.size();) {
    const size_t dot = std::min(name.find('.', start), name.size());
    if (dot == start || dot - start > 63) return InvalidArgument(what + ": bad name " + Quote(name));
    start = dot + 1;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(53);
  if (inet_pton(AF_INET, server.c_str(), &addr.sin_addr) != 1) {
    return InvalidArgument(what + ": not an IPv4 address");
  }
  UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Error::FromErrno(what + ": socket");
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Error::FromErrno(what + ": connect");
  }
  const uint16_t id = static_cast<uint16_t>(std::random_device()());
  const std::string query = EncodeQuery(id, name);
  if (send(fd.get(), query.data(), query.size(), 0) != static_cast<ssize_t>(query.size())) {
    return Error::FromErrno(what + ": send");
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Error(Code::kTimeout, what + ": no answer within " +
                                                         std::to_string(timeout.count()) + " ms");
    pollfd p{fd.get(), POLLIN, 0};
    const int n = poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno(what + ": poll");
    if (n == 0) continue;
    unsigned char answer[512];
    const ssize_t got = recv(fd.get(), answer, sizeof answer, 0);
    // ECONNREFUSED: an ICMP port unreachable, nothing listens on :53.
    if (got < 0) return Error::FromErrno(what);
    if (got < 12) continue;
    const uint16_t answer_id = static_cast<uint16_t>(answer[0] << 8 | answer[1]);
    if (answer_id != id || (answer[2] & 0x80) == 0) continue;
    return answer[3] & 0x0f;
  }
}

}  // namespace banger::system
