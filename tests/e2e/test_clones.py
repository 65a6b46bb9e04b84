"""Clones from a snapshot declared in a spec, end to end under QEMU (inside a
network namespace the test creates, the engine as an unprivileged user):

- one `apply` of a spec with a source VM, a [[snapshot]] of it and two
  clones exits 0, and `plan --detailed-exitcode` afterwards has nothing to
  do;
- the clones were restored, not booted: their boot id is the source's (the
  kernel keeps it in the memory the snapshot saved), so the source also ran
  on through the snapshot;
- each clone is its own machine: hostname = VM name, the NIC holds the
  address banger recorded for it (and its own MAC), a machine-id and SSH
  host keys no other VM has, the keys banger pinned are the guest's (and
  `vm ssh` logs in, right after the apply too), files written on one disk
  are seen on no other;
- clone 1 reaches clone 2 by address and by `<name>.vm`;
- `snapshot rm` is refused while clones run on it, naming them;
- a spec without the clones and the snapshot deletes both: no VM dir,
  snapshot dir, staging dir, VMM process, tap or name left behind.

Measured and printed: the source's boot, the snapshot and each clone's
create step (as apply reports them) and the wall time of every phase."""

import json
import os
import pathlib
import re
import subprocess
import sys
import time
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

SETTINGS = """
[settings]
bridge = "bgk0"
subnet = "172.30.25.0/24"
""" + harness.artifacts_toml()

SOURCE = """
[[vm]]
name = "builder"
image = "base"
kernel = "cloud"
vcpus = 1
memory = "256M"
disk = "1G"
"""

CLONES = """
[[snapshot]]
name = "warm"
vm = "builder"

[[vm]]
name = "worker-1"
from_snapshot = "warm"

[[vm]]
name = "worker-2"
from_snapshot = "warm"
"""

CLONE_NAMES = ("worker-1", "worker-2")
ALL_VMS = ("builder",) + CLONE_NAMES

# What makes a guest itself, one "key=value" a line.
IDENTITY = r"""
nic=
for d in /sys/class/net/*; do
  n=${d##*/}
  [ "$n" = lo ] && continue
  if [ -e "$d/device" ]; then nic=$n; break; fi
  [ -z "$nic" ] && nic=$n
done
echo "hostname=$(hostname)"
echo "nic=$nic"
echo "mac=$(cat /sys/class/net/$nic/address)"
echo "addrs=$(ip -4 -o addr show dev $nic scope global | awk '{print $4}' | sort | tr '\n' ' ')"
echo "machine_id=$(cat /etc/machine-id)"
echo "boot_id=$(cat /proc/sys/kernel/random/boot_id)"
echo "hostkey=$(cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub)"
echo "fingerprint=$(ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub | awk '{print $2}')"
"""

STEP_DONE = re.compile(r"^(\S+): (\w+) done in ([0-9.]+)s$", re.M)


def step_times(apply_stdout):
    """{"vm.worker-1": 1.4, ...}: the seconds apply reports per step."""
    return {m.group(1): float(m.group(3)) for m in STEP_DONE.finditer(apply_stdout)}


class ClonesTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.user = harness.ensure_test_user()
        cls.scratch = harness.Scratch(owner=cls.user)
        cls.state = cls.scratch.path / "state"
        cls.cache = harness.user_cache(cls.user)
        # banger's SSH key and known_hosts in the scratch dir, so the pinned
        # keys read below are this test's alone.
        cls.config = cls.scratch.path / "config"
        cls.config.mkdir()
        cls.specs = {name: cls.scratch.write(f"{name}.toml", SETTINGS + text)
                     for name, text in (("fleet", SOURCE + CLONES), ("source", SOURCE),
                                        ("empty", ""))}
        for p in [cls.config, *cls.specs.values()]:
            os.chown(p, cls.user.pw_uid, cls.user.pw_gid)
        cls.netns = harness.Netns()
        cls.helper, cls.sock = harness.start_helper(cls.netns, cls.user.pw_uid, cls.scratch)
        cls.env = harness.banger_env(cls.state, {
            "BANGER_CACHE_DIR": str(cls.cache), "HOME": cls.user.pw_dir,
            "XDG_CONFIG_HOME": str(cls.config), "BANGER_HELPER_SOCKET": str(cls.sock)})

    @classmethod
    def tearDownClass(cls):
        try:
            cls.banger_cls("apply", "--yes", "-f", str(cls.specs["empty"]))
        finally:
            harness.close_fleet(cls.state, cls.helper, cls.netns, cls.scratch)

    @classmethod
    def banger_cls(cls, *args, netns=True, timeout=900):
        return harness.run_banger(args, cls.env, user=cls.user, timeout=timeout,
                                  netns=cls.netns.name if netns else None)

    def ok(self, *args, **kw):
        r = self.banger_cls(*args, **kw)
        self.assertEqual(r.returncode, 0, f"banger {args}:\n{r.stdout}\n{r.stderr}")
        return r

    def guest(self, vm, script, via="agent"):
        return self.ok("vm", "exec", vm, "--via", via, "--", "sh", "-c", script).stdout

    def identity(self, vm):
        out = self.guest(vm, IDENTITY)
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def vm_ip(self, vm):
        return json.loads(self.ok("vm", "show", vm, "--json").stdout)["ip"].split("/")[0]

    def snapshots(self):
        return {s["name"]: s for s in json.loads(self.ok("snapshot", "list", "--json").stdout)}

    def pinned_keys(self, vm):
        known = self.config / "banger" / "ssh" / "known_hosts"
        keys = []
        for line in known.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 3 and fields[0].split(",")[0] == f"{vm}.vm":
                keys.append(f"{fields[1]} {fields[2]}")
        return keys

    def taps(self):
        links = subprocess.run(["ip", "-n", self.netns.name, "-o", "link"], capture_output=True,
                               text=True, check=True).stdout
        return [l for l in links.splitlines() if "bgt-" in l]

    def staging_leftovers(self):
        staging = self.state / "staging"
        return sorted(p.name for p in staging.iterdir()) if staging.exists() else []

    def reach(self, src, host):
        """`src` reaches `host` (address or name): ping when the image has
        it, else a TCP connection that reads the guest's sshd banner."""
        out = self.guest(src, f"if command -v ping >/dev/null; then "
                              f"ping -c 1 -W 5 {host} >/dev/null && echo ping-ok; else "
                              f"timeout 10 bash -c 'exec 3<>/dev/tcp/{host}/22; head -c 7 <&3'; "
                              f"fi")
        self.assertIn(out.strip(), ("ping-ok", "SSH-2.0"), f"{src} -> {host}: {out!r}")
        return "ping" if out.strip() == "ping-ok" else "tcp/22"

    def test_clones(self):
        phases = {}
        t0 = time.monotonic()
        self.ok("apply", "--yes", "-f", str(self.specs["source"]), "--target", "kernel.cloud",
                "--target", "image.base", netns=False, timeout=1800)
        phases["kernel and image"] = time.monotonic() - t0

        # One apply: the source boots, is snapshotted, the clones restore.
        t0 = time.monotonic()
        r = self.ok("apply", "--yes", "-f", str(self.specs["fleet"]), timeout=1200)
        phases["apply source + snapshot + 2 clones"] = time.monotonic() - t0
        steps = step_times(r.stdout)
        for address in ("vm.builder", "snapshot.warm", "vm.worker-1", "vm.worker-2"):
            self.assertIn(address, steps, f"no '{address}: ... done' in:\n{r.stdout}")

        # Ready means SSH logs in, for a clone as for a boot: at once, with
        # no retry (a script may ssh right after apply). Checked again with
        # the identities below, so a failure here does not hide the rest.
        for vm in CLONE_NAMES:
            with self.subTest("ssh login right after apply", vm=vm):
                r = self.banger_cls("vm", "ssh", vm, "--", "true")
                self.assertEqual(r.returncode, 0, r.stderr)

        t0 = time.monotonic()
        plan = self.banger_cls("plan", "-f", str(self.specs["fleet"]), "--detailed-exitcode")
        phases["plan"] = time.monotonic() - t0
        self.assertEqual(plan.returncode, 0, plan.stdout + plan.stderr)

        t0 = time.monotonic()
        listed = {v["name"]: v for v in json.loads(self.ok("vm", "list", "--json").stdout)}
        self.assertEqual(sorted(listed), sorted(ALL_VMS))
        for vm in ALL_VMS:
            self.assertEqual(listed[vm]["state"], "running", vm)
        ids = {vm: self.identity(vm) for vm in ALL_VMS}
        ips = {vm: self.vm_ip(vm) for vm in ALL_VMS}
        for vm in ALL_VMS:
            self.assertEqual(ids[vm]["hostname"], vm)
            self.assertEqual(ids[vm]["addrs"].split(), [ips[vm] + "/24"], f"{vm}: {ids[vm]}")
        # All of them checked before failing, so a failure names every
        # identifier the clones share.
        shared = {}
        for key in ("mac", "machine_id", "fingerprint", "hostkey"):
            values = [ids[vm][key] for vm in ALL_VMS]
            self.assertTrue(all(values), f"{key}: {values}")
            if len(set(values)) != len(values):
                shared[key] = dict(zip(ALL_VMS, values))
        self.assertEqual(shared, {}, "identifiers shared between VMs")
        self.assertEqual(len(set(ips.values())), len(ALL_VMS), ips)
        # Restored, not booted: the boot id lives in the saved memory. That
        # it is also the source's means the source ran on past the snapshot.
        for vm in CLONE_NAMES:
            self.assertEqual(ids[vm]["boot_id"], ids["builder"]["boot_id"], vm)

        # The keys banger pinned are the ones each guest now serves, and
        # SSH logs in with them (a stale pin would be refused).
        for vm in ALL_VMS:
            self.assertEqual(self.pinned_keys(vm).count(ids[vm]["hostkey"]), 1,
                             f"{vm}: pinned {self.pinned_keys(vm)}, guest {ids[vm]['hostkey']}")
            self.ok("vm", "ssh", vm, "--", "true")
            self.assertEqual(self.guest(vm, "hostname", via="ssh").strip(), vm)
        phases["identity checks"] = time.monotonic() - t0

        # Independent disks: what one VM writes, no other sees.
        t0 = time.monotonic()
        for vm in ALL_VMS:
            self.guest(vm, f"echo {vm} > /root/mine-{vm}.txt; sync")
        for vm in ALL_VMS:
            seen = self.guest(vm, "ls /root | grep '^mine-' || true").split()
            self.assertEqual(seen, [f"mine-{vm}.txt"], vm)
            self.assertEqual(self.guest(vm, f"cat /root/mine-{vm}.txt").strip(), vm)

        # Over the bridge, by address and by name; the resolver answers each
        # clone's own address.
        how = self.reach("worker-1", ips["worker-2"])
        self.reach("worker-2", ips["worker-1"])
        self.reach("worker-2", ips["builder"])
        for src, dst in (("worker-1", "worker-2"), ("worker-2", "worker-1"),
                         ("builder", "worker-1")):
            hosts = self.guest(src, f"getent hosts {dst}.vm").split()
            self.assertEqual(hosts[:1], [ips[dst]], f"{src}: {dst}.vm")
        self.reach("worker-1", "worker-2.vm")
        phases["disk and network checks"] = time.monotonic() - t0

        # In use by the clones: refused, naming both, and kept.
        self.assertEqual(self.snapshots()["warm"]["restored_vms"], list(CLONE_NAMES))
        self.assertEqual(self.snapshots()["warm"]["source_vm"], "builder")
        r = self.banger_cls("snapshot", "rm", "warm")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("snapshot 'warm' is in use", r.stderr)
        for vm in CLONE_NAMES:
            self.assertIn(f"'{vm}'", r.stderr)
        self.assertIn("warm", self.snapshots())
        snap_dir = pathlib.Path(self.snapshots()["warm"]["dir"])
        self.assertTrue(snap_dir.is_dir())

        # The spec without the clones and the snapshot: both go, the source stays.
        t0 = time.monotonic()
        r = self.ok("apply", "--yes", "-f", str(self.specs["source"]))
        phases["apply deleting clones + snapshot"] = time.monotonic() - t0
        self.assertEqual(self.snapshots(), {})
        self.assertFalse(snap_dir.exists())
        self.assertEqual([v["name"] for v in json.loads(self.ok("vm", "list", "--json").stdout)],
                         ["builder"])
        for vm in CLONE_NAMES:
            self.assertFalse((self.state / "vms" / vm).exists(), vm)
            self.assertEqual(self.pinned_keys(vm), [], vm)
            r = self.banger_cls("vm", "exec", "builder", "--", "getent", "hosts", f"{vm}.vm")
            self.assertNotEqual(r.returncode, 0, f"{vm}.vm still resolves: {r.stdout}")
        self.assertEqual(self.identity("builder")["boot_id"], ids["builder"]["boot_id"])
        self.assertEqual(len(harness.vmm_pids_under(self.state)), 1, "one VMM: the source's")
        self.assertLessEqual(len(self.taps()), 3, "the source's tap and the pool")
        self.assertFalse(self.staging_leftovers())
        plan = self.banger_cls("plan", "-f", str(self.specs["source"]), "--detailed-exitcode")
        self.assertEqual(plan.returncode, 0, plan.stdout + plan.stderr)

        self.ok("apply", "--yes", "-f", str(self.specs["empty"]))
        self.assertEqual(harness.vmm_pids_under(self.state), [])
        self.assertEqual(sorted(p.name for p in (self.state / "vms").iterdir())
                         if (self.state / "vms").exists() else [], [])

        print(f"\nclones of a 256 MiB, 1 vCPU guest (QEMU): source create (boot to SSH) "
              f"{steps['vm.builder']:.1f} s, snapshot {steps['snapshot.warm']:.1f} s, "
              + ", ".join(f"{vm} create {steps['vm.' + vm]:.1f} s "
                          f"({steps['vm.' + vm] / steps['vm.builder']:.2f} of the boot)"
                          for vm in CLONE_NAMES)
              + f"; clone to clone reached by {how}", file=sys.stderr)
        for name, secs in phases.items():
            print(f"  {name}: {secs:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
