// The real helper under hostile peers: a long stream of random and
// malformed requests (hostile_requests.h), frames carrying several
// descriptors or none where one is expected, oversized and empty frames,
// peers that hang up without reading, and connections from a uid that is
// neither the owner nor root. The helper must answer every request it
// reads with a well-formed error or success, act only on its own objects
// (the links and nft tables it did not create are byte-identical
// afterwards), stay alive, and hold no more descriptors or threads than
// before.
//
// BANGER_HOSTILE_REQUESTS sets the number of requests (default 100000;
// 41-51 s on a shared 2-core machine) and BANGER_HOSTILE_SEED the seed.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "helper/protocol/codec.h"
#include "helper/protocol/protocol.h"
#include "tests/integration/helper/helper_fixture.h"
#include "tests/integration/helper/hostile_requests.h"
#include "tests/integration/helper/raw_socket.h"

namespace banger::testing {
namespace {

using nlohmann::json;

size_t EnvCount(const char* name, size_t fallback) {
  const char* v = getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

size_t CountEntries(const std::string& dir) {
  auto names = ListDir(dir);
  return names.ok() ? names->size() : 0;
}

// Sends `data` as one message with every descriptor of `fds` attached,
// bypassing the size and count checks of helper::SendFrame.
bool SendRaw(int sock, const std::string& data, const std::vector<int>& fds) {
  iovec iov{const_cast<char*>(data.data()), data.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  if (!fds.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  return sendmsg(sock, &msg, MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
}

// "" when `text` is a response frame the client could decode: ok with a
// result object, or an error with a known code and a message.
std::string ResponseProblem(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return "not a JSON object: " + text;
  auto ok = j.find("ok");
  if (ok == j.end() || !ok->is_boolean()) return "no boolean 'ok': " + text;
  if (*ok) return j.contains("result") && j["result"].is_object() ? "" : "no result: " + text;
  const json& e = j.value("error", json());
  if (!e.is_object() || !e.value("message", json()).is_string() ||
      e["message"].get<std::string>().empty() || !e.value("code", json()).is_string())
    return "malformed error: " + text;
  std::string code = e["code"];
  if (code == "internal") return "internal error for a peer's request: " + text;
  if (helper::CodeFromName(code) == Code::kInternal) return "unknown code: " + text;
  return "";
}

// What the test tallies; the first few problems are kept for the report.
struct Tally {
  size_t requests = 0, successes = 0, errors = 0, dropped = 0, strangers = 0;
  std::map<std::string, size_t> succeeded_ops;  // which operations really ran
  std::vector<std::string> problems;
  void Problem(std::string what) {
    if (problems.size() < 10) problems.push_back(std::move(what));
    else if (problems.size() == 10) problems.push_back("...");
  }
  void Answer(const std::string& request, const std::string& frame) {
    if (std::string p = ResponseProblem(frame); !p.empty()) return Problem(p);
    if (frame.find("\"ok\":true") == std::string::npos) {
      ++errors;
      return;
    }
    ++successes;
    json r = json::parse(request, nullptr, false);
    if (r.is_object() && r.value("op", json()).is_string()) ++succeeded_ops[r["op"]];
  }
  std::string SucceededOps() const {
    std::string out;
    for (const auto& [op, n] : succeeded_ops) out += " " + op + "=" + std::to_string(n);
    return out;
  }
};

// Expects the answer to `request` on `fd`; returns false when the
// connection is gone.
bool Receive(int fd, const std::string& request, Tally& tally, bool expect_eof_or_error) {
  auto got = helper::ReceiveFrame(fd);
  if (!got.ok()) {
    tally.Problem("no answer: " + got.error().message());
    return false;
  }
  if (got->eof) {
    if (!expect_eof_or_error) tally.Problem("the helper hung up on a readable frame");
    return false;
  }
  tally.Answer(request, got->data);
  return true;
}

// A connection from kStranger: refused with permission denied, then closed,
// whatever it sends.
void StrangerVisit(const std::string& socket, Tally& tally) {
  pid_t pid = fork();
  if (pid == 0) {
    if (setgroups(0, nullptr) != 0 || setgid(kStranger) != 0 || setuid(kStranger) != 0) _exit(9);
    UniqueFd fd = ConnectRaw(socket);
    (void)SendRaw(fd.get(), R"({"op":"list_taps"})", {});
    auto got = helper::ReceiveFrame(fd.get());
    if (!got.ok() || got->eof) _exit(2);
    if (got->data.find("\"permission denied\"") == std::string::npos) _exit(3);
    auto next = helper::ReceiveFrame(fd.get());
    _exit(next.ok() && next->eof ? 0 : 4);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ++tally.strangers;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    tally.Problem("stranger visit ended with status " + std::to_string(status));
}

// Descriptors and threads of the helper while exactly one test connection
// is open and idle. Finished connections are reaped when the next one is
// accepted, so this retries until the count settles at `want` (or gives
// up after 10 s and returns what it saw).
std::pair<size_t, size_t> SettledCounts(const HelperFixture& fx,
                                        std::pair<size_t, size_t> want = {0, 0}) {
  const std::string proc = "/proc/" + std::to_string(fx.helper_pid());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::pair<size_t, size_t> seen;
  do {
    UniqueFd fd = ConnectRaw(fx.socket());
    if (Exchange(fd.get(), R"({"op":"ping"})").find("\"ok\":true") == std::string::npos)
      return {0, 0};
    seen = {CountEntries(proc + "/fd"), CountEntries(proc + "/task")};
    if (want.first == 0 || seen == want) return seen;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (std::chrono::steady_clock::now() < deadline);
  return seen;
}

std::set<std::string> LinkNames(const HelperFixture& fx) {
  std::set<std::string> names;
  json links = json::parse(fx.InNs({"ip", "-j", "link", "show"}).out);
  for (const auto& l : links) names.insert(l["ifname"].get<std::string>());
  return names;
}

// The bridges and taps the helper's record says it created.
std::set<std::string> RecordedLinks(const HelperFixture& fx) {
  std::set<std::string> names;
  auto text = ReadFile(JoinPath(fx.state_dir(), std::to_string(kTestOwner) + ".json"));
  if (!text.ok()) return names;
  json record = json::parse(*text, nullptr, false);
  for (const char* kind : {"bridges", "taps"})
    for (const auto& link : record.value(kind, json::array())) names.insert(link.value("name", ""));
  return names;
}

// What a change to the foreign links would show: details, addresses, state.
std::string ForeignLinks(const HelperFixture& fx) {
  std::string out;
  for (const char* link : {kForeignBridge, kForeignTap})
    out += fx.InNs({"ip", "-d", "addr", "show", "dev", link}).out;
  return out;
}

}  // namespace

TEST_CASE("hostile peers: every request answered, only own objects touched, nothing leaked") {
  const size_t total = EnvCount("BANGER_HOSTILE_REQUESTS", 100000);
  const uint64_t seed = EnvCount("BANGER_HOSTILE_SEED", 20261129);
  INFO("requests " << total << ", seed " << seed);
  HelperFixture fx;
  // Objects the helper did not create: a bridge with banger's prefix, a
  // tap, and another program's nft tables.
  fx.InNs({"ip", "link", "add", kForeignBridge, "type", "bridge"});
  fx.InNs({"ip", "addr", "add", "172.30.0.1/24", "dev", kForeignBridge});
  fx.InNs({"ip", "tuntap", "add", "dev", kForeignTap, "mode", "tap"});
  MustRun({"ip", "netns", "exec", fx.ns(), "nft", "-f", "-"},
          "table inet foreign {\n chain input {\n  type filter hook input priority 0;\n"
          "  tcp dport 22 accept\n }\n}\ntable ip nat {\n chain postrouting {\n"
          "  type nat hook postrouting priority 100;\n  oifname \"eth9\" masquerade\n }\n}\n");
  {
    auto client = fx.Client();
    for (size_t i = 0; i < HostileOwnBridges().size(); ++i)
      REQUIRE(client.EnsureBridge(HostileOwnBridges()[i], HostileBridgeAddresses()[i]).ok());
  }
  const std::string foreign_rules = RulesetOutsideBanger(fx);
  const std::string foreign_links = ForeignLinks(fx);
  const std::set<std::string> links_before = LinkNames(fx);
  const auto counts_before = SettledCounts(fx);
  REQUIRE(counts_before.first > 0);

  HostileRequests gen(seed);
  Tally tally;
  UniqueFd devnull(open("/dev/null", O_RDONLY | O_CLOEXEC));
  std::vector<UniqueFd> conns;
  const auto t0 = std::chrono::steady_clock::now();
  while (tally.requests < total) {
    if (conns.empty() || (conns.size() < 4 && gen.Chance(0.01))) conns.push_back(ConnectRaw(fx.socket()));
    size_t which = gen.Below(conns.size());
    int fd = conns[which].get();
    auto drop = [&] { conns.erase(conns.begin() + which); ++tally.dropped; };
    ++tally.requests;
    const size_t roll = gen.Below(1000);
    bool alive = true;
    if (roll < 3) {
      StrangerVisit(fx.socket(), tally);
      continue;
    } else if (roll < 6) {
      // Several descriptors: a framing error, answered, then hung up.
      std::vector<int> fds(2 + gen.Below(30), devnull.get());
      std::string request = gen.Next();
      if (SendRaw(fd, request, fds)) Receive(fd, request, tally, true);
      drop();
      continue;
    } else if (roll < 9) {
      // Over the limit: answered with an error, then hung up.
      std::string big(helper::kMaxFrameSize + 1 + gen.Below(64 << 10), '{');
      if (SendRaw(fd, big, {})) Receive(fd, big, tally, true);
      drop();
      continue;
    } else if (roll < 20) {
      // Sent, then gone before the answer.
      (void)SendRaw(fd, gen.Next(), {});
      drop();
      continue;
    } else if (roll < 60) {
      // One descriptor on a request that may or may not take one.
      std::string request = gen.Next();
      alive = SendRaw(fd, request, {devnull.get()}) &&
              Receive(fd, request, tally, request.empty());
    } else {
      std::string request = gen.Next();
      // An empty message is end of stream to the helper: it hangs up.
      alive = SendRaw(fd, request, {}) && Receive(fd, request, tally, request.empty());
    }
    if (!alive) drop();
  }
  conns.clear();
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  WARN(total << " hostile requests in "
             << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()
             << " ms: " << tally.successes << " succeeded, " << tally.errors << " refused, "
             << tally.dropped << " connections dropped, " << tally.strangers
             << " stranger visits; succeeded:" << tally.SucceededOps());

  std::string problems;
  for (const auto& p : tally.problems) problems += p + "\n";
  INFO(problems);
  CHECK(tally.problems.empty());
  CHECK(tally.successes > 0);  // the stream reached the operations, not only the decoder
  CHECK(tally.errors > 0);
  int status = 0;
  REQUIRE(waitpid(fx.helper_pid(), &status, WNOHANG) == 0);  // still running
  // Back to the state the counts were taken in: the bridges as they were
  // (a request may have readdressed them) and no taps.
  {
    auto client = fx.Client();
    for (size_t i = 0; i < HostileOwnBridges().size(); ++i)
      REQUIRE(client.EnsureBridge(HostileOwnBridges()[i], HostileBridgeAddresses()[i]).ok());
    auto taps = client.ListTaps();
    REQUIRE(taps.ok());
    for (const auto& tap : *taps) CHECK(client.DeleteTap(tap.name).ok());
  }
  CHECK(SettledCounts(fx, counts_before) == counts_before);
  CHECK(RulesetOutsideBanger(fx) == foreign_rules);
  CHECK(ForeignLinks(fx) == foreign_links);
  // A link that appeared is one the helper made on request: banger's
  // prefix, and in the helper's record (mutated names such as "bgtb2" are
  // valid names, so the record, not the pools, says what is its own).
  const std::set<std::string> recorded = RecordedLinks(fx);
  for (const auto& name : LinkNames(fx)) {
    if (links_before.count(name)) continue;
    INFO(name);
    CHECK(name.rfind(helper::kLinkPrefix, 0) == 0);
    CHECK(recorded.count(name) == 1);
  }
  CHECK(fx.Teardown().empty());
}

}  // namespace banger::testing
