"""The daemon end to end: `banger daemon` runs as the unprivileged owner
inside a network namespace (with the root helper beside it) and keeps an
applied fleet of one real VM converged with no CLI running.

- A VMM killed by PID is seen as drift and restarted within two
  observation intervals; `banger events` shows both.
- A guest that dies at every boot (its VMM is killed as soon as it starts)
  is retried 10 s, 20 s, then 40 s after each failed try.
- The daemon SIGKILLed in the middle of a repair: its successor converges,
  and only one VMM runs.
- With restart = "on-failure", a guest that powers itself off stays down.
- A spec edit that removes the VM is reported (held), not executed; the
  VM keeps running until `banger apply` deletes it.
"""

import json
import os
import pathlib
import signal
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

INTERVAL = 2  # seconds between the daemon's observations

SPEC = f"""
[settings]
bridge = "bgd0"
subnet = "172.30.11.0/24"
daemon_interval = {INTERVAL}
""" + harness.artifacts_toml() + """
[[vm]]
name = "web"
image = "base"
kernel = "cloud"
vcpus = 1
memory = "384M"
disk = "1G"
"""

EMPTY_VMS = f"""
[settings]
bridge = "bgd0"
subnet = "172.30.11.0/24"
daemon_interval = {INTERVAL}
""" + harness.artifacts_toml()


class DaemonTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.user = harness.ensure_test_user()
        cls.scratch = harness.Scratch(owner=cls.user)
        cls.state = cls.scratch.path / "state"
        cls.cache = harness.user_cache(cls.user)
        cls.spec = cls.scratch.write("fleet.toml", SPEC)
        os.chown(cls.spec, cls.user.pw_uid, cls.user.pw_gid)
        cls.netns = harness.Netns(prefix="bgdaemon")
        cls.helper, cls.sock = harness.start_helper(cls.netns, cls.user.pw_uid, cls.scratch)
        cls.env = harness.banger_env(cls.state, {
            "BANGER_CACHE_DIR": str(cls.cache), "HOME": cls.user.pw_dir,
            "BANGER_HELPER_SOCKET": str(cls.sock), "BANGER_TAP_POOL": "1"})
        cls.daemons = []

    @classmethod
    def tearDownClass(cls):
        try:
            for d in cls.daemons:
                d.close()
            empty = cls.scratch.write("empty.toml", "")
            harness.run_banger(["apply", "--yes", "-f", str(empty)], cls.env, user=cls.user,
                               netns=cls.netns.name, timeout=600)
        finally:
            harness.close_fleet(cls.state, cls.helper, cls.netns, cls.scratch)

    def banger(self, *args, netns=True, timeout=900):
        return harness.run_banger(args, self.env, user=self.user, timeout=timeout,
                                  netns=self.netns.name if netns else None)

    def ok(self, *args, **kw):
        r = self.banger(*args, **kw)
        self.assertEqual(r.returncode, 0, f"banger {args}:\n{r.stdout}\n{r.stderr}")
        return r

    def start_daemon(self):
        n = len(self.daemons)
        argv = ["ip", "netns", "exec", self.netns.name, "setpriv",
                f"--reuid={self.user.pw_uid}", f"--regid={self.user.pw_gid}", "--init-groups",
                "--", harness.BANGER, "daemon"]
        d = harness.Process(argv, env=self.env, log=self.scratch.path / f"daemon-{n}.log")
        self.daemons.append(d)
        return d

    def events(self):
        r = self.ok("events", "--json", netns=False)
        return [json.loads(line) for line in r.stdout.splitlines()]

    def wait_event(self, pred, timeout, after_ms=0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for e in self.events():
                if e["time_ms"] >= after_ms and pred(e):
                    return e
            time.sleep(0.3)
        self.fail(f"no such event within {timeout}s; events:\n" +
                  "\n".join(json.dumps(e) for e in self.events()[-30:]))

    def vmm_pid(self):
        try:
            h = json.loads((self.state / "vms" / "web" / "handles.json").read_text())
        except (OSError, ValueError):
            return 0
        pid = h["pid"]
        try:
            stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return 0
        start = int(stat.rsplit(")", 1)[1].split()[19])
        return pid if start == h["pid_start_ticks"] and " Z " not in stat else 0

    def test_daemon(self):
        self.ok("apply", "--yes", "-f", str(self.spec), "--target", "kernel.cloud",
                "--target", "image.base", netns=False, timeout=1800)
        self.ok("apply", "--yes", "-f", str(self.spec), timeout=900)
        applied = json.loads((self.state / "daemon" / "applied.json").read_text())
        self.assertEqual(applied["files"], [str(self.spec)])
        daemon = self.start_daemon()

        # 1. Kill the VMM: drift within two intervals, then the repair.
        pid = self.vmm_pid()
        self.assertGreater(pid, 0)
        time.sleep(INTERVAL + 1)  # let the daemon settle into its cycle
        killed_ms = int(time.time() * 1000)
        os.kill(pid, signal.SIGKILL)
        drift = self.wait_event(lambda e: e["kind"] == "drift" and e["address"] == "vm.web",
                                timeout=30, after_ms=killed_ms)
        self.assertIn("process not running", drift["message"])
        seen_after = (drift["time_ms"] - killed_ms) / 1000
        print(f"\ndrift seen {seen_after:.1f}s after the kill", file=sys.stderr)
        self.assertLessEqual(seen_after, 2 * INTERVAL + 1)
        repaired = self.wait_event(lambda e: e["kind"] == "repaired" and e["address"] == "vm.web",
                                   timeout=300, after_ms=killed_ms)
        print(f"repaired {(repaired['time_ms'] - killed_ms) / 1000:.1f}s after the kill",
              file=sys.stderr)
        self.assertEqual(self.ok("vm", "exec", "web", "--", "hostname").stdout.strip(), "web")
        status = json.loads(self.ok("status", "--json").stdout)
        self.assertTrue(status["daemon"]["running"], status)
        web = status["vms"][0]
        self.assertEqual((web["name"], web["actual"], web["restarts"]), ("web", "running", 1))
        text = self.ok("status").stdout
        self.assertIn("daemon: running", text)
        self.assertIn("web: running (wants running, restart always, 1 restarts)", text)
        version = json.loads(self.ok("version", "--json").stdout)["daemon"]
        self.assertEqual((version["running"], version["same_build"]), (True, True), version)

        # 2. A guest that dies at every boot: kill each new VMM at once and
        # time the daemon's tries. A fresh daemon (stopped with SIGTERM, as
        # its unit does) so the series starts at the first backoff step.
        daemon.close()
        self.assertEqual(daemon.proc.returncode, 0)
        daemon = self.start_daemon()
        stop_killer = threading.Event()

        def killer():
            while not stop_killer.is_set():
                p = self.vmm_pid()
                if p:
                    try:
                        os.kill(p, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                time.sleep(0.05)

        loop_start_ms = int(time.time() * 1000)
        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        try:
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                evs = [e for e in self.events() if e["time_ms"] >= loop_start_ms and
                       e["address"] == "vm.web" and e["source"] == "daemon"]
                starts = [e["time_ms"] for e in evs if e["kind"] == "step-started"]
                ends = [e["time_ms"] for e in evs if e["kind"] in ("repair-failed", "repaired")]
                if len(starts) >= 4 and len(ends) >= 3:
                    break
                time.sleep(1)
            else:
                self.fail("fewer than 4 tries in 240 s:\n" + "\n".join(map(json.dumps, evs)))
        finally:
            stop_killer.set()
            thread.join()
        gaps = [(starts[i + 1] - ends[i]) / 1000 for i in range(3)]
        print(f"waits between failed tries: {', '.join(f'{g:.1f}s' for g in gaps)}",
              file=sys.stderr)
        for gap, backoff in zip(gaps, (10, 20, 40)):
            self.assertGreaterEqual(gap, backoff - 0.5)
            self.assertLessEqual(gap, backoff + INTERVAL + 2)
        held = [e for e in self.events() if e["kind"] == "held" and "backing off" in e["message"]]
        self.assertTrue(held)

        # 3. SIGKILL the daemon in the middle of a repair; its successor
        # converges. Stop the daemon and the VM first (a try may have been
        # under way when the killer stopped), so the repair is certain.
        daemon.close()
        pid = self.vmm_pid()
        if pid:
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)
        daemon = self.start_daemon()  # no backoff memory: tries at once
        self.wait_event(lambda e: e["kind"] == "step-started" and e["address"] == "vm.web",
                        timeout=60, after_ms=int(time.time() * 1000) - 500)
        time.sleep(1.5)  # inside the start step: the VMM is booting
        daemon.close(sig=signal.SIGKILL)
        daemon = self.start_daemon()
        # Converged: the VM answers and a plan has nothing to do, whether
        # the new daemon repaired it or found the interrupted start's VMM up.
        deadline = time.monotonic() + 240
        while True:
            r = self.banger("vm", "exec", "web", "--", "true", timeout=60)
            if r.returncode == 0:
                break
            if time.monotonic() > deadline:
                console = (self.state / "vms" / "web" / "console.log").read_text(errors="replace")
                links = subprocess.run(["ip", "-n", self.netns.name, "-br", "link"],
                                       capture_output=True, text=True).stdout
                logs = "".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}\n"
                               for p in sorted(self.scratch.path.glob("*.log")))
                self.fail(f"vm exec still fails: {r.stderr}\nlinks:\n{links}\n"
                          f"console tail:\n{console[-3000:]}\nevents:\n" +
                          "\n".join(map(json.dumps, self.events()[-15:])) + "\n" + logs)
            time.sleep(2)
        plan = self.banger("plan", "-f", str(self.spec), "--detailed-exitcode")
        self.assertEqual(plan.returncode, 0, plan.stdout + plan.stderr)
        self.assertEqual(len(harness.vmm_pids_under(self.state)), 1,
                         "exactly one VMM after the interrupted repair")

        # 4. restart = "on-failure": a guest that powers itself off stays
        # down (the policy change is an in-place update).
        self.spec.write_text(SPEC + 'restart = "on-failure"\n')
        r = self.ok("apply", "--yes", "-f", str(self.spec), timeout=600)
        self.assertIn("vm.web: update done", r.stdout)
        off_ms = int(time.time() * 1000)
        self.banger("vm", "exec", "web", "--", "systemctl", "poweroff", "--no-block", timeout=60)
        held = self.wait_event(lambda e: e["kind"] == "held" and e["address"] == "vm.web",
                               timeout=120, after_ms=off_ms)
        self.assertIn("powered itself off", held["message"])
        time.sleep(2 * INTERVAL)
        self.assertEqual(self.vmm_pid(), 0, "on-failure must leave a powered-off guest down")

        # 5. A spec edit that removes the VM is reported, not executed; the
        # VM is started again first so there is something to keep running.
        self.ok("vm", "start", "web", timeout=600)
        edit_ms = int(time.time() * 1000)
        self.spec.write_text(EMPTY_VMS)
        held = self.wait_event(lambda e: e["kind"] == "held" and e["address"] == "vm.web",
                               timeout=30, after_ms=edit_ms)
        self.assertIn("banger apply", held["message"])
        time.sleep(2 * INTERVAL)
        self.assertGreater(self.vmm_pid(), 0, "the daemon must not delete on its own")
        status = json.loads(self.ok("status", "--json").stdout)
        self.assertIn("banger apply", status["vms"][0]["waiting"])
        # The owner's apply takes it (waiting for the daemon's cycle if need be).
        r = self.ok("apply", "--yes", "-f", str(self.spec), timeout=600)
        self.assertIn("vm.web: delete done", r.stdout)
        self.assertEqual(harness.vmm_pids_under(self.state), [])
        kinds = {e["kind"] for e in self.events()}
        self.assertTrue({"daemon-started", "drift", "repaired", "repair-failed", "held",
                         "step-started", "step-done", "step-failed"} <= kinds, kinds)
        daemon.close()
        self.assertEqual(daemon.proc.returncode, 0)


if __name__ == "__main__":
    unittest.main()
