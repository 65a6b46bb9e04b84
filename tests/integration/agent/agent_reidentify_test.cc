// reidentify against the real agent binary, run in a network and UTS
// namespace of the test's own (a veth stands for the guest's virtio-net;
// sethostname changes only that namespace) with a guest root holding the
// files a restored guest has: its source's host keys, hostname, machine-id,
// random seed, resolver link and a running sshd (a shell that records HUP).
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>

#include "reconciler/access/ssh_dir.h"
#include "reconciler/os/exec.h"
#include "tests/integration/agent/agent_fixture.h"

namespace banger::testing {
namespace {

using std::chrono::seconds;

std::string Output(const std::vector<std::string>& argv) {
  ExecRequest request;
  request.argv = argv;
  request.timeout = seconds(30);
  auto r = RunChecked(request);
  if (!r.ok()) throw std::runtime_error(r.error().message());
  return r->out;
}

// A network namespace whose first NIC, "eth0" (a veth; its peer "eth1" is
// there for the carrier), has the source's MAC and address; deleted when
// the test ends.
class GuestNetns {
 public:
  GuestNetns() : name_("bgt-reid-" + std::to_string(getpid())) {
    Output({"ip", "netns", "add", name_});
    try {
      Output({"ip", "-n", name_, "link", "add", "eth0", "address", "52:54:00:00:00:01", "type",
              "veth", "peer", "name", "eth1"});
      Output({"ip", "-n", name_, "addr", "add", "10.9.0.5/24", "dev", "eth0"});
      Output({"ip", "-n", name_, "link", "set", "eth1", "up"});
      Output({"ip", "-n", name_, "link", "set", "eth0", "up"});
    } catch (...) {
      Delete();
      throw;
    }
  }
  ~GuestNetns() { Delete(); }
  const std::string& name() const { return name_; }

 private:
  void Delete() {
    ExecRequest request;
    request.argv = {"ip", "netns", "del", name_};
    request.timeout = seconds(30);
    (void)SystemRunner().Run(request);
  }
  std::string name_;
};

// Stands in for the listening sshd: writes "hup" to `file` on SIGHUP.
class FakeSshd {
 public:
  explicit FakeSshd(const std::string& file) {
    pid_ = fork();
    if (pid_ == 0) {
      const std::string script = "trap 'echo hup > " + file + "' HUP; while :; do sleep 0.05; done";
      execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let the trap be set
  }
  ~FakeSshd() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

std::string HostName() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

TEST_CASE("reidentify gives a restored guest its own name, NIC, keys and identifiers") {
  GuestNetns netns;
  TempDir root = ScratchDir("banger-reid-root-");
  WriteFile(root.path(), "etc/ssh/ssh_host_ed25519_key.pub", "ssh-ed25519 SOURCEKEY root@builder\n");
  WriteFile(root.path(), "etc/ssh/ssh_host_ed25519_key", "source private key");
  WriteFile(root.path(), "etc/ssh/sshd_config", "# kept\n");
  WriteFile(root.path(), "etc/hostname", "builder\n");
  WriteFile(root.path(), "etc/hosts", "127.0.0.1\tlocalhost\n127.0.1.1\tbuilder\n");
  WriteFile(root.path(), "etc/machine-id", std::string(32, 'a') + "\n");
  WriteFile(root.path(), "var/lib/systemd/random-seed", std::string(512, 's'));
  REQUIRE(symlink("../run/systemd/resolve/stub-resolv.conf",
                  (root.path() + "/etc/resolv.conf").c_str()) == 0);
  const std::string hup = root.path() + "/hup";
  FakeSshd sshd(hup);
  WriteFile(root.path(), "run/sshd.pid", std::to_string(sshd.pid()) + "\n");
  const std::string host_name = HostName();

  AgentFixture agent(root.path(), {"ip", "netns", "exec", netns.name(), "unshare", "--uts"});
  auto client = agent.Client();
  agent::Reidentify request;
  request.hostname = "clone-1";
  request.mac = "52:54:00:aa:bb:cc";
  request.address = "10.9.0.7/24";
  request.gateway = "10.9.0.1";
  request.dns = "10.9.0.1";
  request.seed = std::string(64, 'r');
  auto keys = client.Reidentify(request, In(seconds(60)));
  REQUIRE(keys.ok());

  // New host keys, of every type ssh-keygen -A makes, reported as they are on disk.
  REQUIRE(keys->size() >= 2);
  for (const auto& k : *keys) CHECK(k.find("SOURCEKEY") == std::string::npos);
  CHECK(*client.HostKeys(In(seconds(10))) == *keys);
  CHECK(ReadFile(root.path() + "/etc/ssh/ssh_host_ed25519_key").value() != "source private key");
  CHECK(ReadFile(root.path() + "/etc/ssh/sshd_config").value() == "# kept\n");
  for (int i = 0; i < 100 && !PathExists(hup); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(PathExists(hup));  // sshd was told to load them

  // The name, in the files and in the agent's UTS namespace only.
  CHECK(ReadFile(root.path() + "/etc/hostname").value() == "clone-1\n");
  CHECK(ReadFile(root.path() + "/etc/hosts").value() ==
        "127.0.0.1\tlocalhost\n127.0.1.1\tclone-1\n");
  CHECK(Output({"nsenter", "-t", std::to_string(agent.pid()), "-u", "hostname"}) == "clone-1\n");
  CHECK(HostName() == host_name);

  // The NIC: new MAC, only the new address, the default route.
  const std::string link = Output({"ip", "-n", netns.name(), "-o", "link", "show", "eth0"});
  CHECK(link.find("link/ether 52:54:00:aa:bb:cc") != std::string::npos);
  const std::string addrs = Output({"ip", "-n", netns.name(), "-o", "-4", "addr", "show", "eth0"});
  CHECK(addrs.find("10.9.0.7/24") != std::string::npos);
  CHECK(addrs.find("10.9.0.5") == std::string::npos);
  CHECK(Output({"ip", "-n", netns.name(), "route", "show", "default"}).find("via 10.9.0.1") !=
        std::string::npos);
  CHECK(ReadFile(root.path() + "/etc/resolv.conf").value() == "nameserver 10.9.0.1\nsearch vm\n");

  // Identifiers the next boot would take from disk.
  const std::string machine_id = ReadFile(root.path() + "/etc/machine-id").value();
  CHECK(machine_id.size() == 33);
  CHECK(machine_id != std::string(32, 'a') + "\n");
  const std::string seed = ReadFile(root.path() + "/var/lib/systemd/random-seed").value();
  CHECK(seed.size() == 512);
  CHECK(seed != std::string(512, 's'));

  // Again with the pairs the host makes (as a clone gets them): exactly
  // those are installed and reported, private halves 0600.
  auto pairs = access::MakeGuestHostKeys("clone-1", root.path(), SystemRunner());
  REQUIRE(pairs.ok());
  REQUIRE(pairs->size() == 3);
  request.host_keys = *pairs;
  auto given = client.Reidentify(request, In(seconds(60)));
  REQUIRE(given.ok());
  std::vector<std::string> expected;
  for (const auto& p : *pairs) {
    const std::string file = root.path() + "/etc/ssh/ssh_host_" + p.type + "_key";
    CHECK(ReadFile(file).value() == p.private_key);
    CHECK(ReadFile(file + ".pub").value() == p.public_key);
    struct stat st {};
    REQUIRE(stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    std::string line = p.public_key.substr(0, p.public_key.find(" root@"));
    expected.push_back(line);
  }
  REQUIRE(given->size() == 3);
  for (const auto& e : expected)
    CHECK(std::find(given->begin(), given->end(), e) != given->end());
}

TEST_CASE("a reidentify that cannot be carried out is an error reply; the agent goes on") {
  GuestNetns netns;
  TempDir root = ScratchDir("banger-reid-root-");
  WriteFile(root.path(), "etc/hostname", "builder\n");
  AgentFixture agent(root.path(), {"ip", "netns", "exec", netns.name(), "unshare", "--uts"});
  auto client = agent.Client();
  agent::Reidentify request;
  request.hostname = "clone-2";
  request.mac = "52:54:00:aa:bb:cd";
  request.address = "10.9.0.8/24";
  request.gateway = "10.99.0.1";  // not on the NIC's subnet: no route to it
  request.seed = std::string(32, 'r');
  auto keys = client.Reidentify(request, In(seconds(60)));
  REQUIRE_FALSE(keys.ok());
  CHECK(keys.error().message().find("reidentify: renumber the NIC") != std::string::npos);
  CHECK(keys.error().message().find("ip route replace default via 10.99.0.1") !=
        std::string::npos);
  CHECK(client.HostKeys(In(seconds(10))).ok());  // the connection goes on

  // A malformed request is refused before anything changes.
  request.hostname = "Not_A_Name";
  auto bad = client.Reidentify(request, In(seconds(10)));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message().find("hostname 'Not_A_Name'") != std::string::npos);
  CHECK(ReadFile(root.path() + "/etc/hostname").value() == "clone-2\n");
}

}  // namespace
}  // namespace banger::testing
