"""The engine end to end through the real `banger` binary: validate, plan,
apply, saved plans, the apply lock, watch mode and pruning. Uses resources
that need no VM (a `dir` image and a file_sync entry), so it runs in
seconds; VMs have their own tests."""

import fcntl
import json
import os
import pathlib
import queue
import signal
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

SPEC = """
[[image]]
name = "tiny"
dir = "rootfs"
{size}

[[file_sync]]
name = "motd"
host = "motd.txt"
guest = "/root/motd.txt"
"""


class EngineTest(unittest.TestCase):
    def setUp(self):
        self.scratch = harness.Scratch()
        self.state = self.scratch.path / "state"
        self.env = harness.banger_env(self.state)
        root = self.scratch.path / "rootfs"
        (root / "etc").mkdir(parents=True)
        (root / "etc" / "hostname").write_text("tiny\n")
        self.scratch.write("motd.txt", "hello\n")
        self.spec = self.scratch.write("lab.toml", SPEC.format(size=""))

    def tearDown(self):
        self.scratch.close()

    def banger(self, *args, **kw):
        return harness.run_banger(args, self.env, **kw)

    def test_validate_reports_every_error_with_position(self):
        bad = self.scratch.write("bad.toml", '[[vm]]\nname = "Web"\nmemroy = "1G"\n')
        r = self.banger("validate", "-f", str(bad))
        self.assertEqual(r.returncode, 1)
        self.assertIn("bad.toml:2:8: vm[0].name: invalid name 'Web'", r.stderr)
        self.assertIn("unknown key 'memroy' (did you mean 'memory'?)", r.stderr)
        self.assertIn("missing required key 'image'", r.stderr)
        self.assertRegex(r.stderr, r"banger: \d+ errors in the spec")
        ok = self.banger("validate", "-f", str(self.spec))
        self.assertEqual(ok.returncode, 0, ok.stderr)

    def test_plan_apply_converge_and_prune(self):
        r = self.banger("plan", "-f", str(self.spec), "--detailed-exitcode")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("+   image.tiny", r.stdout)
        self.assertIn("Plan: 2 to create, 0 to update, 0 to restart, 0 to replace, "
                      "0 to delete.", r.stdout)
        js = json.loads(self.banger("plan", "-f", str(self.spec), "--json").stdout)
        self.assertEqual(js["summary"]["create"], 2)

        r = self.banger("apply", "-f", str(self.spec))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("image.tiny: create done in", r.stdout)
        self.assertIn("Apply complete", r.stdout)
        images = list((self.state / "images").iterdir())
        self.assertEqual(len(images), 1)
        self.assertTrue((images[0] / "rootfs.ext4").exists())

        r = self.banger("plan", "-f", str(self.spec), "--detailed-exitcode")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("No changes.", r.stdout)
        r = self.banger("apply", "-f", str(self.spec))
        self.assertEqual(r.returncode, 0)
        self.assertNotIn("done in", r.stdout)

        # A size change rebuilds the image: destructive, so it needs --yes
        # when there is no terminal.
        self.spec.write_text(SPEC.format(size='size = "96M"'))
        r = self.banger("apply", "-f", str(self.spec))
        self.assertEqual(r.returncode, 1)
        self.assertIn("size (auto) -> 96M: replace", r.stdout)
        self.assertIn("refusing without a terminal", r.stderr)
        r = self.banger("apply", "-f", str(self.spec), "--yes")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(len(list((self.state / "images").iterdir())), 1)

        empty = self.scratch.write("empty.toml", "")
        r = self.banger("apply", "-f", str(empty), "--yes")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("-   image.tiny", r.stdout)
        self.assertEqual(list((self.state / "images").iterdir()), [])
        self.assertEqual(list((self.state / "staging").iterdir()), [])

    def test_doctor_reports_each_check_and_how_to_fix_it(self):
        env = dict(self.env, BANGER_HELPER_SOCKET=str(self.scratch.path / "no-helper.sock"))
        r = harness.run_banger(["doctor"], env)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"ok    qemu: .*accelerator (kvm|tcg)")
        self.assertRegex(r.stdout, r"ok    state dir: .* on \w+; qemu: qcow2 overlay")
        self.assertIn("FAIL  root helper: root helper not reachable", r.stdout)
        self.assertIn("fix: sudo banger helper serve --owner", r.stdout)

    def test_saved_plan_applies_once_then_is_stale(self):
        out = self.scratch.path / "plan.json"
        r = self.banger("plan", "-f", str(self.spec), "--out", str(out))
        self.assertEqual(r.returncode, 0, r.stderr)
        stale = self.scratch.path / "stale.json"
        self.banger("plan", "-f", str(self.spec), "--out", str(stale), check=True)
        r = self.banger("apply", str(out))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = self.banger("apply", str(stale))
        self.assertEqual(r.returncode, 1)
        self.assertIn("plan is stale", r.stderr)
        r = self.banger("apply", str(self.scratch.write("junk.json", "{}")))
        self.assertEqual(r.returncode, 1)
        self.assertIn("not a saved banger plan", r.stderr)

    def test_second_apply_fails_at_once_naming_the_holder(self):
        self.state.mkdir(parents=True, exist_ok=True)
        with open(self.state / "apply.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            lock.write(f"{os.getpid()}\n")
            lock.flush()
            t0 = time.monotonic()
            r = self.banger("apply", "-f", str(self.spec), "--yes")
            self.assertLess(time.monotonic() - t0, 5)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"is locked by process {os.getpid()}", r.stderr)

    def test_watch_reapplies_on_save_and_waits_out_errors(self):
        specdir = self.scratch.path / "specs"
        specdir.mkdir()
        (specdir / "a.toml").write_text(
            SPEC.format(size="").replace('"rootfs"', '"../rootfs"').replace('"motd.txt"', '"../motd.txt"'))
        proc = subprocess.Popen([harness.BANGER, "apply", "--watch", "--yes", "-f", str(specdir)],
                                env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, start_new_session=True)
        try:
            out = self.read_until(proc, "Watching", 120)
            self.assertIn("image.tiny: create done", out)
            # An editor's save: write a temp file, rename it over a new name.
            tmp = specdir / ".b.toml.swp"
            tmp.write_text('[[image]]\nname = "second"\ndir = "../rootfs"\n')
            os.rename(tmp, specdir / "b.toml")
            out = self.read_until(proc, "Watching", 120)
            self.assertIn("image.second: create done", out)
            (specdir / "b.toml").write_text('[[image]]\nname = "second"\ndri = "x"\n')
            out = self.read_until(proc, "Watching", 60)
            self.assertIn("unknown key 'dri'", out)
            self.assertNotIn("done in", out)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
        self.assertEqual(proc.returncode, 1)  # the last cycle had spec errors

    @staticmethod
    def read_until(proc, marker, timeout):
        # A reader thread: select() on a buffered pipe misses lines that
        # are already in Python's buffer.
        if not hasattr(proc, "lines"):
            proc.lines = queue.Queue()
            threading.Thread(target=lambda: [proc.lines.put(l) for l in proc.stdout],
                             daemon=True).start()
        out = ""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = proc.lines.get(timeout=1)
            except queue.Empty:
                continue
            out += line
            if marker in line:
                return out
        raise AssertionError(f"no {marker!r} within {timeout}s; output:\n{out}")

if __name__ == "__main__":
    unittest.main()
