"""An interrupted build cleans up after itself, and a later start sweeps
what a killed one left: SIGTERM/SIGINT during a real image build through
the `banger` binary, then stale staging and temp directories planted with
dead and live PIDs. Uses a `dir` image (no VM, no root helper)."""

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
[[image]]
name = "big"
dir = "{root}"
"""

FILES = 12000  # enough that copying and building take a few seconds


def dead_pid():
    """A PID whose process has exited and been reaped."""
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


class BuildInterruptTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # One big source tree shared by the tests (read only).
        cls.source = harness.Scratch(prefix="banger-e2e-src-")
        root = cls.source.path / "rootfs"
        blob = b"x" * 3000
        for d in range(FILES // 200):
            sub = root / "usr" / f"d{d}"
            sub.mkdir(parents=True)
            for f in range(200):
                (sub / f"f{f}").write_bytes(blob)
        (root / "etc").mkdir()
        (root / "etc" / "hostname").write_text("big\n")

    @classmethod
    def tearDownClass(cls):
        cls.source.close()

    def setUp(self):
        self.scratch = harness.Scratch()
        self.state = self.scratch.path / "state"
        self.tmp = self.scratch.path / "tmp"
        self.tmp.mkdir()
        self.env = harness.banger_env(self.state, {"TMPDIR": str(self.tmp)})
        self.spec = self.scratch.write("big.toml", SPEC.format(root=self.source.path / "rootfs"))

    def tearDown(self):
        self.scratch.close()

    def owned_by(self, directory, pid):
        """Entries of `directory` named "<prefix><pid>.<suffix>"."""
        if not directory.is_dir():
            return []
        return [p.name for p in directory.iterdir() if f"{pid}." in p.name]

    def wait_for(self, what, cond, proc, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if cond():
                return
            if proc.poll() is not None:
                out, err = proc.communicate()
                self.fail(f"banger exited {proc.returncode} before {what}\n{out}\n{err}")
            time.sleep(0.02)
        self.fail(f"timed out waiting for {what}")

    def interrupt(self, sig, ready, expected_rc, extra=()):
        proc = subprocess.Popen([harness.BANGER, "apply", "--yes", "-f", str(self.spec), *extra],
                                env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        try:
            self.wait_for("the build to reach the point to interrupt", lambda: ready(proc.pid),
                          proc)
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertEqual(proc.returncode, expected_rc, f"stdout:\n{out}\nstderr:\n{err}")
        self.assertIn("interrupted by " + signal.Signals(sig).name, err)
        self.assertEqual(self.owned_by(self.state / "staging", proc.pid), [])
        self.assertEqual(self.owned_by(self.tmp, proc.pid), [])
        self.assertEqual(list(self.tmp.iterdir()), [])
        images = self.state / "images"
        self.assertEqual(list(images.iterdir()) if images.is_dir() else [], [])
        return proc.pid

    def test_sigterm_while_copying_the_tree(self):
        staging = self.state / "staging"

        def copying(pid):
            for name in self.owned_by(staging, pid):
                usr = staging / name / "rootfs" / "usr"
                if usr.is_dir() and len(list(usr.iterdir())) >= 2:
                    return True
            return False

        self.interrupt(signal.SIGTERM, copying, 143)

    def test_sigint_while_building_the_filesystem(self):
        # The host temp dir appears when the ext4 build starts (xattr values,
        # debugfs scripts); mkfs and debugfs then run as children.
        self.interrupt(signal.SIGINT, lambda pid: bool(self.owned_by(self.tmp, pid)), 130)

    def test_sigint_during_a_watch_cycle_cancels_its_build(self):
        # Ctrl-C while a watch cycle builds: the build cleans up and the
        # watch ends at once with 130 (not after the build, not with 0).
        self.interrupt(signal.SIGINT, lambda pid: bool(self.owned_by(self.tmp, pid)), 130,
                       extra=("--watch",))

    def test_next_start_sweeps_dead_processes_leftovers_only(self):
        staging = self.state / "staging"
        staging.mkdir(parents=True)
        dead, live = dead_pid(), os.getpid()
        planted = {
            staging / f"image-{dead}.aaaaaa": False,
            staging / f"kernel-{dead}.bbbbbb": False,
            self.tmp / f"banger-{dead}.cccccc": False,
            staging / f"image-{live}.dddddd": True,
            self.tmp / f"banger-{live}.eeeeee": True,
            self.tmp / "banger-test-keep": True,     # not an owned dir's name
            staging / "notes": True,
        }
        for path in planted:
            path.mkdir()
            (path / "leftover").write_bytes(b"x" * 100)
        r = harness.run_banger(["plan", "-f", str(self.spec)], self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        for path, kept in planted.items():
            self.assertEqual(path.exists(), kept, path)

    def test_a_build_that_is_not_interrupted_leaves_no_temp_files(self):
        r = harness.run_banger(["apply", "--yes", "-f", str(self.spec)], self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(list((self.state / "staging").iterdir()), [])
        self.assertEqual(list(self.tmp.iterdir()), [])
        self.assertEqual(len(list((self.state / "images").iterdir())), 1)


if __name__ == "__main__":
    unittest.main()
