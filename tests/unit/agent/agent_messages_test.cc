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

Reidentify SampleReidentify() {
  Reidentify r;
  r.hostname = "clone-1";
  r.mac = "52:54:00:0a:0b:0c";
  r.address = "172.30.0.7/24";
  r.gateway = "172.30.0.1";
  r.dns = "172.30.0.1";
  r.seed = std::string(64, '\x5a');
  return r;
}

TEST_CASE("reidentify requests round-trip, also without a network") {
  auto back = DecodeReidentify(EncodeReidentify(SampleReidentify()));
  REQUIRE(back.ok());
  CHECK(back->hostname == "clone-1");
  CHECK(back->mac == "52:54:00:0a:0b:0c");
  CHECK(back->address == "172.30.0.7/24");
  CHECK(back->gateway == "172.30.0.1");
  CHECK(back->dns == "172.30.0.1");
  CHECK(back->seed == std::string(64, '\x5a'));
  Reidentify keyed = SampleReidentify();
  keyed.host_keys = {{"ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n", "ssh-ed25519 AAAA root@clone-1\n"},
                     {"rsa", "-----BEGIN OPENSSH PRIVATE KEY-----\nBBBB\n", "ssh-rsa BBBB root@clone-1"}};
  auto keyed_back = DecodeReidentify(EncodeReidentify(keyed));
  REQUIRE(keyed_back.ok());
  REQUIRE(keyed_back->host_keys.size() == 2);
  CHECK(keyed_back->host_keys[1].type == "rsa");
  CHECK(keyed_back->host_keys[1].private_key == "-----BEGIN OPENSSH PRIVATE KEY-----\nBBBB\n");
  CHECK(keyed_back->host_keys[0].public_key == "ssh-ed25519 AAAA root@clone-1\n");
  Reidentify offline = SampleReidentify();
  offline.address = offline.gateway = offline.dns = offline.mac = "";
  CHECK(DecodeReidentify(EncodeReidentify(offline)).ok());
}

TEST_CASE("reidentify requests are validated field by field") {
  auto refused = [](auto change) {
    Reidentify r = SampleReidentify();
    change(r);
    return Message(DecodeReidentify(EncodeReidentify(r)));
  };
  CHECK(refused([](Reidentify& r) { r.hostname = "Web"; }) ==
        "agent reidentify: hostname 'Web' is not 1 to 63 of [a-z0-9-]");
  CHECK(refused([](Reidentify& r) { r.hostname = "-x"; }).find("hostname '-x'") !=
        std::string::npos);
  CHECK(refused([](Reidentify& r) { r.hostname = std::string(64, 'a'); }).find("hostname") !=
        std::string::npos);
  CHECK(refused([](Reidentify& r) { r.mac = "53:54:00:0a:0b:0c"; }) ==
        "agent reidentify: mac '53:54:00:0a:0b:0c' is not a unicast MAC address "
        "(aa:bb:cc:dd:ee:ff)");
  CHECK(refused([](Reidentify& r) { r.mac = "52:54:00:0a:0b"; }).find("mac") !=
        std::string::npos);
  CHECK(refused([](Reidentify& r) { r.mac = "52-54-00-0a-0b-0c"; }).find("mac") !=
        std::string::npos);
  CHECK(refused([](Reidentify& r) { r.address = "172.30.0.7"; }) ==
        "agent reidentify: address '172.30.0.7' is not an IPv4 address with a prefix length");
  CHECK(refused([](Reidentify& r) { r.address = "172.30.0.7/33"; }).find("address") !=
        std::string::npos);
  CHECK(refused([](Reidentify& r) { r.address = "172.30.0.7/24; rm"; }).find("address") !=
        std::string::npos);
  CHECK(refused([](Reidentify& r) { r.gateway = "gw"; }) ==
        "agent reidentify: gateway 'gw' is not an IPv4 address");
  CHECK(refused([](Reidentify& r) { r.dns = "1.2.3"; }) ==
        "agent reidentify: dns '1.2.3' is not an IPv4 address");
  CHECK(refused([](Reidentify& r) { r.address = ""; }) ==
        "agent reidentify: gateway and dns need an address");
  CHECK(refused([](Reidentify& r) { r.seed = std::string(31, 'x'); }) ==
        "agent reidentify: seed of 31 bytes; 32 to 512 are needed");
  CHECK(refused([](Reidentify& r) { r.seed = std::string(513, 'x'); }).find("seed of 513") !=
        std::string::npos);
  const HostKeyPair good{"ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n", "ssh-ed25519 AAAA"};
  CHECK(refused([&](Reidentify& r) { r.host_keys = {good, good}; }) ==
        "agent reidentify: host key type 'ed25519' given twice");
  auto key_refused = [&](auto change) {
    return refused([&](Reidentify& r) {
      r.host_keys = {good};
      change(r.host_keys[0]);
    });
  };
  CHECK(key_refused([](HostKeyPair& k) { k.type = "../../etc/shadow"; }) ==
        "agent reidentify: host key type '../../etc/shadow' is not rsa, ecdsa or ed25519");
  CHECK(key_refused([](HostKeyPair& k) { k.private_key = "not a key"; }) ==
        "agent reidentify: ed25519 host key is not an OpenSSH private key");
  CHECK(key_refused([](HostKeyPair& k) {
          k.public_key = "ssh-ed25519 AAAA\nroot:x:0:0::/root:/bin/sh\n";
        }) == "agent reidentify: ed25519 public host key is not one line");
  CHECK(key_refused([](HostKeyPair& k) { k.private_key += std::string(kMaxHostKeyBytes, 'k'); })
            .find("over 16384 bytes") != std::string::npos);
  CHECK(refused([&](Reidentify& r) {
          r.host_keys = {good, good, good, good};
        }) == "agent reidentify: host_keys has 4 entries, at most 3");
  std::string padded = EncodeReidentify(SampleReidentify()) + "x";
  CHECK(Message(DecodeReidentify(padded)) == "agent reidentify: 1 trailing bytes");
  std::string cut = EncodeReidentify(SampleReidentify());
  cut.pop_back();
  CHECK(Message(DecodeReidentify(cut)).find("agent reidentify: ") == 0);
}

}  // namespace
}  // namespace banger::agent
