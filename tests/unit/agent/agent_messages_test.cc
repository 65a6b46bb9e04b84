// The agent's payloads: each round-trips; truncated, padded and invalid
// payloads are refused with a message naming the field.
#include <catch2/catch.hpp>

#include <string>

#include "guest/agent/protocol/messages.h"

namespace banger::agent {
namespace {

ExecStart SampleExec() {
  ExecStart e;
  e.argv = {"sh", "-c", "echo \"$X\""};
  e.env = {"X=1", "EMPTY="};
  e.cwd = "/tmp";
  return e;
}

std::string Message(const Status& s) {
  REQUIRE_FALSE(s.ok());
  return s.error().message();
}

template <typename T>
std::string Message(const Result<T>& r) {
  REQUIRE_FALSE(r.ok());
  return r.error().message();
}

TEST_CASE("payloads round-trip") {
  auto hello = DecodeHelloReply(EncodeHelloReply({0x0102030405060708ull, "0.1.0"}));
  REQUIRE(hello.ok());
  CHECK(hello->nonce == 0x0102030405060708ull);
  CHECK(hello->agent_version == "0.1.0");

  HealthReply h{"c0ffee", 123456, {5, 150, 1000}};
  auto health = DecodeHealthReply(EncodeHealthReply(h));
  REQUIRE(health.ok());
  CHECK(health->boot_id == "c0ffee");
  CHECK(health->uptime_ms == 123456);
  CHECK(health->load_centi[2] == 1000);

  auto exec = DecodeExecStart(EncodeExecStart(SampleExec()));
  REQUIRE(exec.ok());
  CHECK(exec->argv == SampleExec().argv);
  CHECK(exec->env == SampleExec().env);
  CHECK(exec->cwd == "/tmp");
  CHECK_FALSE(exec->pty);

  ExecStart pty = SampleExec();
  pty.pty = true;
  pty.rows = 40;
  pty.cols = 120;
  auto p = DecodeExecStart(EncodeExecStart(pty));
  REQUIRE(p.ok());
  CHECK(p->pty);
  CHECK(p->rows == 40);
  CHECK(p->cols == 120);

  auto exit = DecodeExit(EncodeExit({true, 9}));
  REQUIRE(exit.ok());
  CHECK(exit->signaled);
  CHECK(exit->code == 9);

  auto keys = DecodeStringList(EncodeStringList({"ssh-ed25519 AAAA", "ssh-rsa BBBB"}), "host_keys");
  REQUIRE(keys.ok());
  CHECK(keys->size() == 2);
  CHECK(*DecodeDirectory(EncodeString("/root/x")) == "/root/x");
}

TEST_CASE("truncated and padded payloads are refused") {
  std::string exec = EncodeExecStart(SampleExec());
  for (size_t cut = 0; cut < exec.size(); ++cut) {
    INFO(cut);
    CHECK_FALSE(DecodeExecStart(exec.substr(0, cut)).ok());
  }
  CHECK(Message(DecodeExecStart(exec + "x")) == "agent exec_start: 1 trailing bytes");
  CHECK(Message(DecodeHello("1234567")) == "agent hello: nonce is truncated");
  CHECK(Message(DecodeU32("12345", "signal")) == "agent signal: 1 trailing bytes");
  CHECK(Message(ExpectEmpty("x", "health")) == "agent health: expected no payload, got 1 bytes");
}

TEST_CASE("lengths and counts larger than the payload are refused without allocating") {
  // A string claiming 4 GiB.
  CHECK(Message(DecodeString(std::string("\xff\xff\xff\xff", 4), "error")) ==
        "agent error: text is truncated");
  // A list claiming 4000 entries in 8 bytes.
  std::string list("\x00\x00\x0f\xa0", 4);
  list += std::string(4, '\0');
  CHECK(Message(DecodeStringList(list, "host_keys")) ==
        "agent host_keys: entries: count 4000 exceeds the payload");
  std::string huge("\x00\x01\x00\x00", 4);
  CHECK(Message(DecodeStringList(huge, "host_keys")) ==
        "agent host_keys: entries has 65536 entries, at most 4096 are allowed");
}

TEST_CASE("exec requests are validated") {
  auto with = [](auto change) {
    ExecStart e = SampleExec();
    change(e);
    return Message(DecodeExecStart(EncodeExecStart(e)));
  };
  CHECK(with([](ExecStart& e) { e.argv.clear(); }) == "agent exec_start: argv is empty");
  CHECK(with([](ExecStart& e) { e.argv[0] = ""; }) == "agent exec_start: argv[0] is empty");
  CHECK(with([](ExecStart& e) { e.argv[1] = std::string("a\0b", 3); }) ==
        "agent exec_start: an argv entry holds a NUL byte");
  CHECK(with([](ExecStart& e) { e.env = {"NOEQUALS"}; }) ==
        "agent exec_start: environment entry 'NOEQUALS' is not NAME=value");
  CHECK(with([](ExecStart& e) { e.env = {"=x"}; }) ==
        "agent exec_start: environment entry '=x' is not NAME=value");
  CHECK(with([](ExecStart& e) { e.cwd = "tmp"; }) ==
        "agent exec_start: cwd 'tmp' is not an absolute path");
  CHECK(with([](ExecStart& e) { e.rows = 10; }) == "agent exec_start: a window size without a pty");
  std::string flags = EncodeExecStart(SampleExec());
  flags[0] = 2;
  CHECK(Message(DecodeExecStart(flags)) == "agent exec_start: unknown flags 2");
}

TEST_CASE("exit statuses are range-checked") {
  CHECK(Message(DecodeExit(EncodeExit({false, 256}))) == "agent exit: exit code 256 > 255");
  CHECK(Message(DecodeExit(EncodeExit({true, 0}))) == "agent exit: signal 0 out of range");
  std::string kind = EncodeExit({false, 1});
  kind[0] = 3;
  CHECK(Message(DecodeExit(kind)) == "agent exit: unknown exit kind 3");
}

TEST_CASE("put and get directories must be absolute") {
  CHECK(Message(DecodeDirectory(EncodeString("rel/dir"))) ==
        "agent: directory 'rel/dir' is not an absolute path");
  CHECK(Message(DecodeDirectory(EncodeString(""))) == "agent: directory '' is not an absolute path");
}

}  // namespace
}  // namespace banger::agent
