"""Real VMs end to end: the engine runs as an unprivileged user, the root
helper as root, both inside a network namespace the test creates (artifacts
are built outside it, since they download from Debian's archive). Two VMs
boot under QEMU, answer `vm exec`, reach each other, survive stop/start,
get repaired after their VMM is killed, refuse a tampered host key, and an
empty spec removes everything."""

import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

UPSTREAM = "10.77.0.53"
OUTSIDE = "10.77.0.80"

SPEC = """
[settings]
bridge = "bg0"
subnet = "172.30.9.0/24"
""" + harness.artifacts_toml() + """
[[file_sync]]
name = "note"
host = "note.txt"
guest = "/root/note.txt"

[[vm]]
name = "alpha"
image = "base"
kernel = "cloud"
vcpus = 1
memory = "384M"
disk = "1G"
nat = true
file_sync = ["note"]

[[vm]]
name = "beta"
image = "base"
kernel = "cloud"
vcpus = 1
memory = "384M"
disk = "1G"
"""


def nft_ruleset(netns):
    out = subprocess.run(["ip", "netns", "exec", netns, "nft", "list", "ruleset"],
                         capture_output=True, text=True, check=True).stdout
    # Everything outside banger's own table.
    kept, skip = [], False
    for line in out.splitlines():
        if line.startswith("table ") and " banger" in line:
            skip = True
            continue
        if skip and line == "}":
            skip = False
            continue
        if not skip:
            kept.append(line)
    return "\n".join(kept)


class VmTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.user = harness.ensure_test_user()
        cls.scratch = harness.Scratch(owner=cls.user)
        cls.state = cls.scratch.path / "state"
        cls.cache = harness.user_cache(cls.user)
        cls.spec = cls.scratch.write("fleet.toml", SPEC)
        cls.scratch.write("note.txt", "synced\n")
        for p in cls.scratch.path.iterdir():
            os.chown(p, cls.user.pw_uid, cls.user.pw_gid)
        cls.netns = cls.helper = cls.upstream = cls.web = cls.etc_netns = None
        try:
            cls.start_network()
        except BaseException:
            cls.stop_network()
            raise

    @classmethod
    def start_network(cls):
        cls.netns = harness.Netns()
        # The host's upstream resolver, inside the namespace: `ip netns
        # exec` shows /etc/netns/NAME/resolv.conf as /etc/resolv.conf, so
        # the helper's bridge resolvers forward to a dnsmasq on a veth end
        # that knows outside.test, served by an HTTP server there.
        cls.etc_netns = pathlib.Path("/etc/netns") / cls.netns.name
        cls.etc_netns.mkdir(parents=True)
        (cls.etc_netns / "resolv.conf").write_text(f"nameserver {UPSTREAM}\n")
        for argv in (["link", "add", "bgup0", "type", "veth", "peer", "name", "bgup1"],
                     ["addr", "add", f"{UPSTREAM}/24", "dev", "bgup0"],
                     ["addr", "add", f"{OUTSIDE}/24", "dev", "bgup0"],
                     ["link", "set", "bgup1", "up"],
                     ["link", "set", "bgup0", "up"]):
            subprocess.run(["ip", "-n", cls.netns.name] + argv, check=True)
        cls.upstream = harness.Process(
            ["ip", "netns", "exec", cls.netns.name, "dnsmasq", "--keep-in-foreground",
             "--conf-file=/dev/null", "--no-resolv", "--no-hosts", f"--listen-address={UPSTREAM}",
             "--bind-interfaces", f"--address=/outside.test/{OUTSIDE}", "--pid-file="],
            log=cls.scratch.path / "upstream-dns.log")
        cls.web = harness.Process(
            ["ip", "netns", "exec", cls.netns.name, "/usr/bin/python3", "-m", "http.server",
             "8080", "--bind", OUTSIDE, "--directory", str(cls.scratch.path)],
            log=cls.scratch.path / "web.log")
        cls.helper, cls.sock = harness.start_helper(cls.netns, cls.user.pw_uid, cls.scratch)
        cls.env = harness.banger_env(cls.state, {
            "BANGER_CACHE_DIR": str(cls.cache), "HOME": cls.user.pw_dir,
            "BANGER_HELPER_SOCKET": str(cls.sock), "BANGER_TAP_POOL": "2"})
        # Foreign rules that must survive untouched.
        subprocess.run(["ip", "netns", "exec", cls.netns.name, "nft", "add", "table", "inet",
                        "someone-else"], check=True)
        cls.nft_before = nft_ruleset(cls.netns.name)

    @classmethod
    def stop_network(cls):
        for p in (cls.helper, cls.upstream, cls.web):
            if p:
                p.close()
        if cls.etc_netns:
            shutil.rmtree(cls.etc_netns, ignore_errors=True)
        if cls.netns:
            cls.netns.close()
        cls.scratch.close()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.banger_cls("apply", "--yes", "-f", str(cls.scratch.write("empty.toml", "")))
        finally:
            for pid in harness.vmm_pids_under(cls.state):
                os.kill(pid, signal.SIGKILL)
            cls.stop_network()

    @classmethod
    def banger_cls(cls, *args, netns=True, timeout=900):
        return harness.run_banger(args, cls.env, user=cls.user, timeout=timeout,
                                  netns=cls.netns.name if netns else None)

    def banger(self, *args, **kw):
        return self.banger_cls(*args, **kw)

    def ok(self, *args, **kw):
        r = self.banger(*args, **kw)
        self.assertEqual(r.returncode, 0, f"banger {args}:\n{r.stdout}\n{r.stderr}")
        return r

    def test_fleet(self):
        # Artifacts first, outside the namespace (they download).
        self.ok("apply", "--yes", "-f", str(self.spec), "--target", "kernel.cloud",
                "--target", "image.base", netns=False, timeout=1800)
        t0 = time.monotonic()
        r = self.ok("apply", "--yes", "-f", str(self.spec), timeout=900)
        print(f"\napply of two VMs: {time.monotonic() - t0:.1f}s", file=sys.stderr)
        self.assertIn("vm.alpha: create done", r.stdout)
        self.assertIn("ssh login works", r.stdout)

        plan = self.banger("plan", "-f", str(self.spec), "--detailed-exitcode")
        self.assertEqual(plan.returncode, 0, plan.stdout + plan.stderr)

        listing = self.ok("vm", "list").stdout
        self.assertIn("alpha", listing)
        self.assertIn("running", listing)
        self.assertEqual(self.ok("vm", "exec", "alpha", "--", "cat", "/root/note.txt").stdout,
                         "synced\n")
        self.assertEqual(self.ok("vm", "exec", "beta", "--", "hostname").stdout.strip(), "beta")
        r = self.banger("vm", "exec", "beta", "--", "sh", "-c", "exit 7")
        self.assertEqual(r.returncode, 7)
        # VM to VM over the bridge: alpha reads beta's sshd banner.
        r = self.ok("vm", "exec", "alpha", "--", "bash", "-c",
                    "exec 3<>/dev/tcp/beta.vm/22; head -c 7 <&3")
        self.assertEqual(r.stdout, "SSH-2.0")
        self.ok("vm", "ssh", "beta", "--", "true")

        # Names: every VM answers as <name>.vm from the bridge resolver
        # (and as <name> through the guest's search domain); other names
        # are forwarded upstream, and a NAT guest reaches what they name.
        ip = {vm: json.loads(self.ok("vm", "show", vm, "--json").stdout)["ip"]
              for vm in ("alpha", "beta")}
        self.assertNotEqual(ip["alpha"], ip["beta"])
        hosts = self.ok("vm", "exec", "alpha", "--", "getent", "hosts", "beta.vm").stdout
        self.assertEqual(hosts.split()[0], ip["beta"])
        self.assertEqual(self.ok("vm", "exec", "beta", "--", "getent", "hosts",
                                 "alpha").stdout.split()[0], ip["alpha"])
        self.assertIn("search vm", self.ok("vm", "exec", "beta", "--", "cat",
                                           "/etc/resolv.conf").stdout)
        self.assertEqual(self.ok("vm", "exec", "alpha", "--", "getent", "hosts",
                                 "outside.test").stdout.split()[0], OUTSIDE)
        self.scratch.write("outside.txt", "served outside\n")
        r = self.ok("vm", "exec", "alpha", "--", "bash", "-c",
                    "exec 3<>/dev/tcp/outside.test/8080; "
                    "printf 'GET /outside.txt HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3")
        self.assertIn("served outside", r.stdout)
        self.assertNotEqual(nft_ruleset(self.netns.name), "")
        self.assertEqual(nft_ruleset(self.netns.name), self.nft_before)

        # Lifecycle verbs.
        self.ok("vm", "stop", "beta")
        self.assertNotIn("beta", self.ok("vm", "list").stdout)
        self.assertIn("stopped", self.ok("vm", "list", "--all").stdout)
        self.ok("vm", "start", "beta")
        self.ok("vm", "restart", "beta")
        self.assertEqual(self.ok("vm", "exec", "beta", "--", "true").returncode, 0)

        # A VMM killed behind banger's back is drift, repaired by apply.
        self.assertRegex(self.ok("vm", "show", "alpha").stdout, r"state: +running")
        shown = json.loads(self.ok("vm", "show", "alpha", "--json").stdout)
        os.kill(shown["pid"], signal.SIGKILL)
        time.sleep(1)
        plan = self.banger("plan", "-f", str(self.spec))
        self.assertIn("vm.alpha: process not running", plan.stdout)
        self.ok("apply", "--yes", "-f", str(self.spec))
        self.ok("vm", "exec", "alpha", "--", "true")

        # A tampered pinned host key is refused (by SSH: the agent's
        # channel needs no host key).
        kh = pathlib.Path(self.user.pw_dir) / ".config" / "banger" / "ssh" / "known_hosts"
        original = kh.read_text()
        lines = [l for l in original.splitlines() if l.startswith("beta.vm")]
        self.assertTrue(lines)
        other = [l for l in original.splitlines() if l.startswith("alpha.vm")][0]
        kh.write_text(original.replace(lines[0], lines[0].split()[0] + " " +
                                       " ".join(other.split()[1:])))
        r = self.banger("vm", "exec", "beta", "--via", "ssh", "--", "true")
        self.assertEqual(r.returncode, 1)
        self.assertIn("does not match the key pinned at its first boot", r.stderr)
        kh.write_text(original)

        # Unreadable handles withhold deletions, and the plan says which.
        handles = self.state / "vms" / "alpha" / "handles.json"
        saved_handles = handles.read_bytes()
        handles.write_text("{not json")
        empty = self.scratch.write("none.toml", "")
        plan = self.banger("plan", "-f", str(empty), "--detailed-exitcode")
        self.assertEqual(plan.returncode, 1, plan.stdout + plan.stderr)
        self.assertRegex(plan.stdout, r"\d deletions withheld: vm\.alpha, vm\.beta")
        self.assertNotIn("No changes", plan.stdout)
        handles.write_bytes(saved_handles)

        # `vm rm` keeps banger's ssh config true: no stale Host entry.
        ssh_config = pathlib.Path(self.user.pw_dir) / ".config" / "banger" / "ssh" / "config"
        self.assertIn("beta.vm", ssh_config.read_text())
        self.ok("vm", "rm", "beta")
        self.assertNotIn("beta.vm", ssh_config.read_text())
        # ... and its name stops resolving at once.
        gone = self.banger("vm", "exec", "alpha", "--", "getent", "hosts", "beta.vm")
        self.assertEqual(gone.returncode, 2, gone.stdout + gone.stderr)
        self.assertIn("alpha.vm", ssh_config.read_text())

        # An empty spec removes everything: processes, disks, handles.
        self.ok("apply", "--yes", "-f", str(self.scratch.write("none.toml", "")))
        self.assertEqual(harness.vmm_pids_under(self.state), [])
        self.assertEqual(list((self.state / "vms").iterdir()), [])
        links = subprocess.run(["ip", "-n", self.netns.name, "-o", "link"], capture_output=True,
                               text=True).stdout
        self.assertEqual(nft_ruleset(self.netns.name), self.nft_before)
        taps = [l for l in links.splitlines() if "bgt-" in l]
        self.assertLessEqual(len(taps), 2)  # only the warm pool

    def test_pool_parallel_creates(self):
        """Four VMs created at once take their taps from the warm pool: no
        tap is created on the boot path (the step notes say which)."""
        env = dict(self.env, BANGER_TAP_POOL="4")
        vms = "".join(f'\n[[vm]]\nname = "p{i}"\nimage = "base"\nkernel = "cloud"\n'
                      f'vcpus = 1\nmemory = "256M"\ndisk = "1G"\n' for i in range(5))
        base = SPEC[:SPEC.index("[[file_sync]]")]
        one = self.scratch.write("pool1.toml", base + vms[:vms.index("[[vm]]", 5)])
        five = self.scratch.write("pool5.toml", base + vms)
        for p in (one, five):
            os.chown(p, self.user.pw_uid, self.user.pw_gid)

        def run(*args, netns=True):
            r = harness.run_banger(args, env, user=self.user, timeout=1800,
                                   netns=self.netns.name if netns else None)
            self.assertEqual(r.returncode, 0, f"{args}:\n{r.stdout}\n{r.stderr}")
            return r

        run("apply", "--yes", "-f", str(one), "--target", "kernel.cloud", "--target",
            "image.base", netns=False)
        run("apply", "--yes", "-f", str(one))  # warms the pool for the next run
        t0 = time.monotonic()
        out = run("apply", "--yes", "-f", str(five)).stdout
        print(f"\nparallel create of 4 VMs: {time.monotonic() - t0:.1f}s", file=sys.stderr)
        pooled = [l for l in out.splitlines() if "from the warm pool in" in l]
        print("\n".join(pooled), file=sys.stderr)
        self.assertEqual(len(pooled), 4, out)
        self.assertNotIn(" created in ", out)
        run("apply", "--yes", "-f", str(self.scratch.write("none2.toml", "")))
        self.assertEqual(harness.vmm_pids_under(self.state), [])

    def test_published_ports(self):
        """Ports published on a running VM are an update (no restart) and
        reach the guest's sshd from the namespace; a port another process
        has bound is a plan error."""
        base = SPEC[:SPEC.index("[[file_sync]]")]
        vm = ('\n[[vm]]\nname = "gamma"\nimage = "base"\nkernel = "cloud"\n'
              'vcpus = 1\nmemory = "256M"\ndisk = "1G"\n')
        plain = self.scratch.write("ports0.toml", base + vm)
        ported = self.scratch.write(
            "ports1.toml", base + vm + 'ports = ["127.0.0.1:2222:22", "8022:22/tcp"]\n')
        taken = self.scratch.write("ports2.toml", base + vm + 'ports = ["8081:22"]\n')
        for p in (plain, ported, taken):
            os.chown(p, self.user.pw_uid, self.user.pw_gid)
        self.ok("apply", "--yes", "-f", str(plain), "--target", "kernel.cloud", "--target",
                "image.base", netns=False, timeout=1800)
        self.ok("apply", "--yes", "-f", str(plain))
        pids = harness.vmm_pids_under(self.state)
        plan = self.ok("plan", "-f", str(ported)).stdout
        self.assertIn("ports [] -> [127.0.0.1:2222:22/tcp, 8022:22/tcp]: update", plan)
        self.ok("apply", "--yes", "-f", str(ported))
        self.assertEqual(harness.vmm_pids_under(self.state), pids)  # not restarted

        def banner(address, port):
            return subprocess.run(
                ["ip", "netns", "exec", self.netns.name, "/usr/bin/python3", "-c",
                 "import socket,sys; s=socket.create_connection((sys.argv[1], int(sys.argv[2])),"
                 " 5); sys.stdout.write(s.recv(7).decode())", address, port],
                capture_output=True, text=True, timeout=30).stdout

        self.assertEqual(banner("127.0.0.1", "2222"), "SSH-2.0")
        self.assertEqual(banner(OUTSIDE, "8022"), "SSH-2.0")
        listener = harness.Process(
            ["ip", "netns", "exec", self.netns.name, "/usr/bin/python3", "-m", "http.server",
             "8081", "--bind", "127.0.0.1"], log=self.scratch.path / "squatter.log")
        try:
            for _ in range(50):
                up = subprocess.run(
                    ["ip", "netns", "exec", self.netns.name, "/usr/bin/python3", "-c",
                     "import socket; socket.create_connection(('127.0.0.1', 8081), 1)"],
                    capture_output=True)
                if up.returncode == 0:
                    break
                time.sleep(0.1)
            plan = self.banger("plan", "-f", str(taken))
            self.assertEqual(plan.returncode, 1, plan.stdout + plan.stderr)
            self.assertIn("vm.gamma: ports: '8081:22/tcp': host port tcp 127.0.0.1:8081 is "
                          "already bound by another process", plan.stdout + plan.stderr)
        finally:
            listener.close()
        self.ok("apply", "--yes", "-f", str(self.scratch.write("none3.toml", "")))
        self.assertEqual(banner("127.0.0.1", "2222"), "")
        self.assertEqual(nft_ruleset(self.netns.name), self.nft_before)


if __name__ == "__main__":
    unittest.main()
