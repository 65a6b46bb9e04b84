"""The daemon's files as the CLI meets them, without VMs: an apply that
finds the daemon holding the state dir waits a bounded time and then fails
naming it (a second apply is still refused at once), and `banger events
--follow` prints events as they are appended, across a rotation."""

import fcntl
import json
import os
import pathlib
import subprocess
import sys
import time
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402


def start_ticks(pid):
    stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[19])


class DaemonFilesTest(unittest.TestCase):
    def setUp(self):
        self.scratch = harness.Scratch()
        self.state = self.scratch.path / "state"
        (self.state / "daemon").mkdir(parents=True)
        self.env = harness.banger_env(self.state)
        self.spec = self.scratch.write("empty.toml", "")

    def tearDown(self):
        self.scratch.close()

    def hold_lock_as(self, pid):
        """Takes apply.lock in this process, writing `pid` as the holder."""
        fd = os.open(self.state / "apply.lock", os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.write(fd, f"{pid}\n".encode())
        return fd

    def write_daemon_status(self, pid):
        now = int(time.time())
        (self.state / "daemon" / "status.json").write_text(json.dumps({
            "pid": pid, "pid_start_ticks": start_ticks(pid), "build": "test",
            "started_at": now, "heartbeat_at": now, "interval_seconds": 10,
            "last_cycle_error": "", "vms": {}}))

    def test_apply_waits_for_the_daemon_then_names_it(self):
        fd = self.hold_lock_as(os.getpid())
        try:
            self.write_daemon_status(os.getpid())
            t0 = time.monotonic()
            r = harness.run_banger(["apply", "-f", str(self.spec), "--daemon-wait", "2"],
                                   self.env, timeout=60)
            waited = time.monotonic() - t0
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn(f"waiting up to 2 s for the banger daemon (pid {os.getpid()})", r.stderr)
            self.assertIn(f"still locked by the banger daemon (pid {os.getpid()}) after 2 s",
                          r.stderr)
            self.assertGreaterEqual(waited, 2)
            self.assertLess(waited, 10)

            # A holder that is not the daemon: refused at once, as before.
            (self.state / "daemon" / "status.json").unlink()
            t0 = time.monotonic()
            r = harness.run_banger(["apply", "-f", str(self.spec)], self.env, timeout=60)
            self.assertEqual(r.returncode, 1)
            self.assertIn(f"is locked by process {os.getpid()}", r.stderr)
            self.assertLess(time.monotonic() - t0, 2)
        finally:
            os.close(fd)

    def test_apply_proceeds_when_the_daemon_lets_go(self):
        fd = self.hold_lock_as(os.getpid())
        self.write_daemon_status(os.getpid())
        proc = subprocess.Popen([harness.BANGER, "apply", "-f", str(self.spec)], env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1)
        os.close(fd)  # the daemon's cycle ends
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 0, out + err)
        self.assertIn("waiting up to 60 s for the banger daemon", err)
        applied = json.loads((self.state / "daemon" / "applied.json").read_text())
        self.assertEqual(applied["files"], [str(self.spec)])

    def test_events_follow_prints_appends_across_a_rotation(self):
        log = self.state / "events.jsonl"

        def append(path, n):
            with open(path, "a") as f:
                f.write(json.dumps({"time_ms": 1000 * n, "source": "daemon", "kind": "drift",
                                    "address": "vm.web", "message": f"event {n}"}) + "\n")

        append(log, 1)
        proc = subprocess.Popen([harness.BANGER, "events", "--follow"], env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            self.assertIn("event 1", proc.stdout.readline())
            append(log, 2)
            self.assertEqual(proc.stdout.readline().strip(),
                             "1970-01-01T00:00:02.000Z daemon vm.web drift: event 2")
            log.rename(log.with_suffix(".jsonl.1"))
            append(log, 3)
            self.assertIn("event 3", proc.stdout.readline())
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            err = proc.stderr.read()
            proc.stdout.close()
            proc.stderr.close()
        self.assertEqual(proc.returncode, 0, err)

        r = harness.run_banger(["events", "--json", "-n", "1"], self.env)
        self.assertEqual(json.loads(r.stdout)["message"], "event 3")
        with open(log, "a") as f:
            f.write("not an event\n")
        r = harness.run_banger(["events"], self.env)
        self.assertEqual(r.returncode, 1)
        self.assertIn("events.jsonl", r.stderr)


if __name__ == "__main__":
    unittest.main()
