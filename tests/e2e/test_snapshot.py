"""Snapshots end to end, on one VM under QEMU (inside a network namespace the
test creates, the engine as an unprivileged user):

- `vm snapshot` of a running VM whose guest counts: the VM keeps running
  through it (same boot id, the counter goes on);
- a file written afterwards is gone after `vm restore`, the guest's boot id
  is the snapshot's and its counter continues from there (every banger call
  is a new process, so the restore runs after the one that saved is gone);
- `snapshot list --json` shows disk use (allocated below apparent) and the
  restored VM; `snapshot rm` is refused while the VM runs on it;
- banger SIGKILLed during `vm snapshot` at several moments: the snapshot is
  listed complete or not at all, no staging dir is left, the VM runs;
- a truncated or damaged state file is refused before the VM is touched;
- the VMM SIGKILLed during a save: nothing published, no staging left;
- nothing is left running at the end.

Measured and printed: save time, restore time, bytes written per snapshot."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

SPEC = """
[settings]
bridge = "bgs0"
subnet = "172.30.21.0/24"
""" + harness.artifacts_toml() + """
[[vm]]
name = "web"
image = "base"
kernel = "cloud"
vcpus = 1
memory = "384M"
disk = "1G"
"""

# A counter in guest memory (/run is tmpfs), in its own session so the
# agent does not end it with the exec that started it.
COUNTER = ("setsid -f sh -c 'i=0; while :; do i=$((i+1)); echo $i > /run/count; sleep 0.2; done' "
           "</dev/null >/dev/null 2>&1")


class SnapshotTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.user = harness.ensure_test_user()
        cls.scratch = harness.Scratch(owner=cls.user)
        cls.state = cls.scratch.path / "state"
        cls.cache = harness.user_cache(cls.user)
        cls.spec = cls.scratch.write("fleet.toml", SPEC)
        os.chown(cls.spec, cls.user.pw_uid, cls.user.pw_gid)
        cls.netns = harness.Netns()
        cls.helper, cls.sock = harness.start_helper(cls.netns, cls.user.pw_uid, cls.scratch)
        cls.env = harness.banger_env(cls.state, {
            "BANGER_CACHE_DIR": str(cls.cache), "HOME": cls.user.pw_dir,
            "BANGER_HELPER_SOCKET": str(cls.sock)})

    @classmethod
    def tearDownClass(cls):
        try:
            cls.banger_cls("apply", "--yes", "-f", str(cls.scratch.write("empty.toml", "")))
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

    def guest(self, script):
        return self.ok("vm", "exec", "web", "--via", "agent", "--", "sh", "-c", script).stdout

    def boot_id(self):
        return self.guest("cat /proc/sys/kernel/random/boot_id").strip()

    def count(self):
        return int(self.guest("cat /run/count"))

    def assert_counting(self):
        first = self.count()
        time.sleep(1.0)
        self.assertGreater(self.count(), first, "the guest's counter stopped")

    def snapshots(self):
        return {s["name"]: s for s in json.loads(self.ok("snapshot", "list", "--json").stdout)}

    def staging_leftovers(self):
        staging = self.state / "staging"
        return sorted(p.name for p in staging.iterdir()) if staging.exists() else []

    def test_snapshot_restore_and_faults(self):
        self.ok("apply", "--yes", "-f", str(self.spec), "--target", "kernel.cloud",
                "--target", "image.base", netns=False, timeout=1800)
        self.ok("apply", "--yes", "-f", str(self.spec))
        self.guest(COUNTER)
        self.assert_counting()
        boot = self.boot_id()

        # Snapshot while the guest counts; the VM runs on unchanged.
        t0 = time.monotonic()
        r = self.ok("vm", "snapshot", "web", "--as", "s1")
        save_s = time.monotonic() - t0
        self.assertIn("snapshot 's1' taken", r.stdout)
        at_snapshot = self.count()
        self.assertEqual(self.boot_id(), boot)
        self.assert_counting()
        snap = self.snapshots()["s1"]
        self.assertEqual(snap["source_vm"], "web")
        self.assertEqual(snap["vmm"], "qemu")
        self.assertLess(snap["allocated_bytes"], snap["apparent_bytes"])
        self.assertEqual({d["id"] for d in snap["disks"]}, {"rootfs", "work"})
        self.assertFalse(self.staging_leftovers())

        # A file written after the snapshot, then back to the snapshot.
        self.guest("echo after > /root/after.txt; sync")
        time.sleep(1.0)
        before_restore = self.count()
        t0 = time.monotonic()
        r = self.ok("vm", "restore", "web", "s1")
        restore_s = time.monotonic() - t0
        self.assertIn("restored from snapshot 's1'", r.stdout)
        self.assertEqual(self.guest("test -e /root/after.txt && echo present || echo gone"),
                         "gone\n")
        self.assertEqual(self.boot_id(), boot)
        resumed = self.count()
        self.assertLess(resumed, before_restore, "the counter is the snapshot's, not the latest")
        self.assertGreaterEqual(resumed, at_snapshot - 10)
        self.assert_counting()
        s1 = self.snapshots()["s1"]
        self.assertEqual(s1["restored_vms"], ["web"])
        print(f"\nsnapshot of a 384 MiB guest: `vm snapshot` {save_s:.2f} s "
              f"(paused {s1['save_ms']} ms), state {s1['state_bytes']} bytes, "
              f"{s1['allocated_bytes']} bytes allocated on disk "
              f"(apparent {s1['apparent_bytes']}); `vm restore` to agent health "
              f"{restore_s:.2f} s", file=sys.stderr)

        # In use: refused, and it stays.
        r = self.banger_cls("snapshot", "rm", "s1")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("snapshot 's1' is in use: vm 'web' runs on disks restored from it", r.stderr)
        self.assertIn("s1", self.snapshots())

        # SIGKILL of banger during `vm snapshot`, at several moments.
        for i, delay in enumerate((0.4, 1.5, 3.0)):
            name = f"k{i}"
            with self.subTest(kill_after=delay):
                argv = ["ip", "netns", "exec", self.netns.name, "setpriv",
                        f"--reuid={self.user.pw_uid}", f"--regid={self.user.pw_gid}",
                        "--init-groups", "--", harness.BANGER, "vm", "snapshot", "web",
                        "--as", name]
                proc = subprocess.Popen(argv, env=self.env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
                time.sleep(delay)
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                listed = self.snapshots()  # a new banger: sweeps what the killed one left
                if name in listed:
                    d = pathlib.Path(listed[name]["dir"])
                    self.assertTrue((d / "meta.json").exists())
                    self.assertEqual((d / "state").stat().st_size, listed[name]["state_bytes"])
                self.assertFalse(self.staging_leftovers())
                self.assert_counting()
                self.assertEqual(self.boot_id(), boot)
                print(f"\nkilled after {delay} s: snapshot {name} "
                      f"{'complete' if name in listed else 'absent'}", file=sys.stderr)
                if name in listed:
                    self.ok("snapshot", "rm", name)

        # Damaged state files are refused before the VM is touched.
        self.ok("vm", "snapshot", "web", "--as", "s2")
        state = pathlib.Path(self.snapshots()["s2"]["dir"]) / "state"
        size = state.stat().st_size
        with open(state, "r+b") as f:
            f.seek(size // 2)
            f.write(b"\xff" * 4096)
        r = self.banger_cls("vm", "restore", "web", "s2")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("damaged", r.stderr)
        self.assertIn("vm left as it was", r.stderr)
        os.truncate(state, size // 3)
        r = self.banger_cls("vm", "restore", "web", "s2")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("truncated", r.stderr)
        self.assertEqual(self.boot_id(), boot)
        self.assert_counting()
        self.assertEqual(len(harness.vmm_pids_under(self.state)), 1, "one VMM")
        self.ok("snapshot", "rm", "s2")

        # The VMM itself SIGKILLed while it saves: nothing is published and
        # no staging is left; the dead VM is drift for the next plan.
        vmm = harness.vmm_pids_under(self.state)
        self.assertEqual(len(vmm), 1, "one VMM")
        argv = ["ip", "netns", "exec", self.netns.name, "setpriv",
                f"--reuid={self.user.pw_uid}", f"--regid={self.user.pw_gid}",
                "--init-groups", "--", harness.BANGER, "vm", "snapshot", "web", "--as", "v1"]
        proc = subprocess.Popen(argv, env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        while time.time() < deadline and proc.poll() is None and not self.staging_leftovers():
            time.sleep(0.01)
        os.kill(vmm[0], signal.SIGKILL)
        t_kill = time.time()
        _, err = proc.communicate(timeout=300)
        print(f"\nVMM killed during the save: banger exited {proc.returncode} "
              f"{time.time() - t_kill:.2f} s later", file=sys.stderr)
        listed = self.snapshots()
        if proc.returncode != 0:
            self.assertNotIn("v1", listed, err)
        else:  # the save finished before the kill landed: then it is whole
            self.assertEqual((pathlib.Path(listed["v1"]["dir"]) / "state").stat().st_size,
                             listed["v1"]["state_bytes"])
            self.ok("snapshot", "rm", "v1")
        self.assertFalse(self.staging_leftovers())
        self.assertEqual(harness.vmm_pids_under(self.state), [])
        r = self.banger_cls("plan", "--detailed-exitcode", "-f", str(self.spec))
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)

        # The VM goes, and with it the use: now the snapshot can be removed.
        self.ok("apply", "--yes", "-f", str(self.scratch.write("empty.toml", "")))
        self.ok("snapshot", "rm", "s1")
        self.assertEqual(self.snapshots(), {})
        self.assertEqual(harness.vmm_pids_under(self.state), [])
        links = subprocess.run(["ip", "-n", self.netns.name, "-o", "link"], capture_output=True,
                               text=True).stdout
        self.assertLessEqual(len([l for l in links.splitlines() if "bgt-" in l]), 2)
        self.assertFalse(self.staging_leftovers())


if __name__ == "__main__":
    unittest.main()
