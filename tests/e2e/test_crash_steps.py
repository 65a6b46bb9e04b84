"""Crash at every step: a real apply is SIGKILLed at each of its step
boundaries in turn, and the next apply must pick up from there.

The scenario is a create of two VMs, a restart of one (memory), a replace
of the other (kernel) and a delete of the first. With
BANGER_CRASH_SWEEP=all (`make test-crash`) each phase is first applied
cleanly with BANGER_CRASH_TRACE set, which lists its crash points (every
progress line; reconciler/base/crash_point.h); then, for each point of the
phase, the phase's apply runs with BANGER_CRASH_AT=<the line's text up to
its first varying part> and dies there (not by number: steps run in
parallel, so line k of one run is not line k of the next).
After every crash the test asserts:

- the next apply converges (exit 0);
- a second apply plans nothing and the root helper logs no request while
  it runs (the helper runs with --log-requests);
- no VMM or console logger beyond the spec's VMs, no tap beyond theirs and
  the warm pool, no loop device or mount under the test's directory, NAT
  rules for the NAT VM's address alone and the ruleset equal to the last
  convergence to the same spec, nothing left in staging, and no lock held.

Phases are swept by going back and forth: the restart alternates between
two memory sizes and the replace between two kernels (the same files
under two names), so each crash starts from a converged state without an
extra apply; creates alternate with deletes of both VMs.

`make test` (BANGER_CRASH_SWEEP unset) kills one point per phase, named
by its line (BANGER_CRASH_AT=text), where processes, taps and rules are
half made: a created VM's VMM running before the VM is recorded, a
restarted one holding the tap for its new VMM, a replaced VM about to be
destroyed, a deleted one being shut down. VMs live in a namespace made for the test; the
engine and the helper run as root."""

import fcntl
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

SUBNET = "172.30.17.0/24"
POOL_SIZE = 2  # net::TapPool's free taps
SWEEP_ALL = os.environ.get("BANGER_CRASH_SWEEP") == "all"


def spec_text(vms):
    """`vms`: name -> (memory, kernel). VM "a" has NAT, so crashes also
    meet nft rules half made."""
    text = f'[settings]\nbridge = "bgc0"\nsubnet = "{SUBNET}"\n'
    text += harness.artifacts_toml()
    text += '\n[[kernel]]\nname = "cloud2"\ndeb = "linux-image-cloud-amd64"\n'
    for name, (memory, kernel) in sorted(vms.items()):
        text += (f'\n[[vm]]\nname = "{name}"\nimage = "base"\nkernel = "{kernel}"\n'
                 f'vcpus = 1\nmemory = "{memory}"\ndisk = "256M"\n')
        if name == "a":
            text += "nat = true\n"
    return text


CRASH_LINE = re.compile(r"^banger: crash point (\d+): (.*)$", re.M)


class CrashStepsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.scratch = harness.Scratch(prefix="banger-crash-")
        cls.state = cls.scratch.path / "state"
        cls.netns = harness.Netns("bgcrash")
        cls.helper, cls.sock = harness.start_helper(cls.netns, 0, cls.scratch,
                                                    extra_args=["--log-requests"])
        cls.env = harness.banger_env(cls.state, {"BANGER_HELPER_SOCKET": str(cls.sock)})
        cls.rulesets = {}  # spec text -> nft ruleset of its clean convergence
        cls.counter = 0

    @classmethod
    def tearDownClass(cls):
        harness.delete_fleet(cls.banger_cls, cls.state, cls.helper, cls.netns, cls.scratch)

    @classmethod
    def banger_cls(cls, *args, extra_env=None, netns=True, timeout=900):
        env = dict(cls.env, **(extra_env or {}))
        return harness.run_banger(args, env, timeout=timeout,
                                  netns=cls.netns.name if netns else None)

    def write_spec(self, vms):
        CrashStepsTest.counter += 1
        return self.scratch.write(f"spec-{self.counter}.toml", spec_text(vms))

    def apply(self, spec, extra_env=None):
        return self.banger_cls("apply", "--yes", "--parallelism", "1", "-f", str(spec),
                               extra_env=extra_env)

    def ok_apply(self, spec, extra_env=None):
        r = self.apply(spec, extra_env)
        self.assertEqual(r.returncode, 0, f"apply {spec.name}:\n{r.stdout}\n{r.stderr}")
        return r

    def helper_requests(self):
        text = (self.scratch.path / "helper.log").read_text(errors="replace")
        return [line for line in text.splitlines() if ": request " in line]

    def ruleset(self):
        return subprocess.run(["ip", "netns", "exec", self.netns.name, "nft", "list", "ruleset"],
                              check=True, capture_output=True, text=True).stdout

    def converge_cleanly(self, vms):
        """Applies `vms` without a crash; records its ruleset and returns
        the crash points its apply went through."""
        spec = self.write_spec(vms)
        r = self.ok_apply(spec, {"BANGER_CRASH_TRACE": "1"})
        points = [(int(n), where) for n, where in CRASH_LINE.findall(r.stderr)]
        self.assertEqual([n for n, _ in points], list(range(1, len(points) + 1)), r.stderr)
        self.check_clean(vms, spec)
        return points

    def crash_then_converge(self, vms, at, where=None):
        """Applies `vms` killed at the first line containing `at`; with
        `where` (the line of a clean run) that line must have its shape."""
        spec = self.write_spec(vms)
        with self.subTest(crash_at=at, where=where, spec=spec.name):
            r = self.apply(spec, {"BANGER_CRASH_AT": str(at)})
            self.assertEqual(r.returncode, -9, f"no crash at {at}:\n{r.stdout}\n{r.stderr}")
            died = CRASH_LINE.findall(r.stderr)
            self.assertEqual(len(died), 1, r.stderr)
            self.assertIn(at, died[0][1])
            if where is not None:
                self.assertEqual(shape(died[0][1]), shape(where))
            r = self.ok_apply(spec)
            self.check_clean(vms, spec)

    def check_clean(self, vms, spec):
        """The host matches `vms` exactly and a further apply has nothing to do."""
        before = len(self.helper_requests())
        r = self.banger_cls("plan", "--detailed-exitcode", "-f", str(spec))
        self.assertEqual(r.returncode, 0, f"plan after convergence:\n{r.stdout}\n{r.stderr}")
        r = self.ok_apply(spec)
        self.assertNotIn("done in", r.stdout)
        requests = self.helper_requests()[before:]
        self.assertEqual(requests, [], "a no-change plan and apply made helper requests")

        vmms = harness.vmm_pids_under(self.state / "vms")
        qemus = [p for p in vmms if comm(p).startswith("qemu")]
        self.assertEqual(len(qemus), len(vms), f"VMMs: {[(p, comm(p)) for p in vmms]}")
        loggers = console_loggers_under(self.state)
        self.assertLessEqual(len(loggers), len(vms), f"console loggers left: {loggers}")
        listed = json.loads(self.banger_cls("vm", "list", "--all", "--json").stdout)
        self.assertEqual({v["name"]: v["state"] for v in listed},
                         {name: "running" for name in vms})
        self.assertEqual(sorted(v["pid"] for v in listed), sorted(qemus))

        taps = ns_taps(self.netns.name)
        self.assertLessEqual(len(taps), len(vms) + POOL_SIZE, f"taps: {taps}")
        self.assertEqual(loop_devices_under(self.scratch.path), [])
        self.assertEqual(mounts_under(self.scratch.path), [])
        staging = self.state / "staging"
        self.assertEqual(list(staging.iterdir()) if staging.exists() else [], [])
        for lock in lock_files(self.state):
            with open(lock, "a") as f:
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    self.fail(f"lock {lock} is still held")
                fcntl.flock(f, fcntl.LOCK_UN)
        # NAT for a's address alone (b has none), and the same ruleset as
        # the last convergence to this spec.
        ruleset = self.ruleset()
        nat = {v["ip"] for v in listed if v["nat"]}
        self.assertEqual(set(re.findall(r"172\.30\.17\.(?![01]\b)\d+", ruleset)), nat, ruleset)
        key = json.dumps(sorted(vms.items()))
        self.assertEqual(self.rulesets.setdefault(key, ruleset), ruleset)

    def test_crash_at_every_step(self):
        t0 = time.monotonic()
        # Kernels and image first, outside the namespace (cached downloads).
        spec = self.write_spec({})
        r = self.banger_cls("apply", "--yes", "-f", str(spec), "--target", "kernel.cloud",
                            "--target", "kernel.cloud2", "--target", "image.base",
                            netns=False, timeout=3000)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.ok_apply(spec)
        if SWEEP_ALL:
            self.sweep_every_point()
        else:
            self.sweep_sample()
        print(f"\ncrash sweep ({'all' if SWEEP_ALL else 'sample'}) took "
              f"{time.monotonic() - t0:.0f}s", file=sys.stderr)

    def sweep_sample(self):
        """One point per phase, named by its line, so no clean run has to
        list the points first."""
        state = {"a": ("256M", "cloud"), "b": ("256M", "cloud")}
        # a's VMM runs, a is not recorded.
        self.crash_then_converge(dict(state), "vm.a: guest ready")
        # a, stopped for its restart, holds a tap for its new VMM.
        state["a"] = ("320M", "cloud")
        self.crash_then_converge(dict(state), "vm.a: tap ")
        # b is about to be destroyed for its replacement.
        state["b"] = ("256M", "cloud2")
        self.crash_then_converge(dict(state), "vm.b: destroying")
        # a is being shut down for its deletion.
        del state["a"]
        self.crash_then_converge(dict(state), "vm.a: shutting down")

    def sweep_every_point(self):
        """Every point of every phase, listed by a clean run of the phase.
        A point is named by its line's text up to the first part that
        varies between runs: steps run in parallel, so the k-th line of one
        run need not be the k-th of the next."""
        # Create two VMs, alternating with deletes of both.
        two = {"a": ("256M", "cloud"), "b": ("256M", "cloud")}
        creates = by_text(self.converge_cleanly(two))
        deletes = by_text(self.converge_cleanly({}))
        print(f"\ncreate: {len(creates)} points, delete both: {len(deletes)}", file=sys.stderr)
        for i in range(max(len(creates), len(deletes))):
            if i < len(creates):
                self.crash_then_converge(two, *creates[i])
            else:
                self.ok_apply(self.write_spec(two))
            if i < len(deletes):
                self.crash_then_converge({}, *deletes[i])
            elif i + 1 < len(creates):
                self.ok_apply(self.write_spec({}))
        if len(deletes) >= len(creates):
            self.ok_apply(self.write_spec(two))

        # Restart: a's memory, back and forth.
        state = dict(two)
        sizes = iter(["320M", "256M"] * 100)

        def restarted():
            state["a"] = (next(sizes), "cloud")
            return dict(state)

        points = by_text(self.converge_cleanly(restarted()))
        print(f"\nrestart: {len(points)} points", file=sys.stderr)
        for text, where in points:
            self.crash_then_converge(restarted(), text, where)

        # Replace: b's kernel, back and forth.
        kernels = iter(["cloud2", "cloud"] * 100)

        def replaced():
            state["b"] = ("256M", next(kernels))
            return dict(state)

        points = by_text(self.converge_cleanly(replaced()))
        print(f"\nreplace: {len(points)} points", file=sys.stderr)
        for text, where in points:
            self.crash_then_converge(replaced(), text, where)

        # Delete a, making it again between crashes.
        with_a = dict(state)
        del state["a"]
        points = by_text(self.converge_cleanly(dict(state)))
        print(f"\ndelete: {len(points)} points", file=sys.stderr)
        for text, where in points:
            self.ok_apply(self.write_spec(with_a))
            self.crash_then_converge(dict(state), text, where)


VARIES = r"\b(bgt-)?[0-9a-f]{6,}\b|\d+(\.\d+)?"


def shape(line):
    """A progress line without what varies between runs (tap names,
    timings, boot ids, whether a tap came from the warm pool)."""
    line = re.sub(r"^(\S+: tap \S+) (created|from the warm pool) in", r"\1 in", line)
    return re.sub(VARIES, "#", line)


def by_text(points):
    """(text, line) per crash point of a clean run: BANGER_CRASH_AT text,
    the line up to its first varying part. Lines with the same text (a
    second tap line) can only be reached at their first; they are left out."""
    out, seen = [], set()
    for _, line in points:
        m = re.search(VARIES, line)
        text = line[:m.start()] if m else line
        if text not in seen:
            seen.add(text)
            out.append((text, line))
    return out


def comm(pid):
    try:
        return pathlib.Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def console_loggers_under(directory):
    """Console loggers (they are retitled, so their command line does not
    name the state dir) writing a file under `directory`."""
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit() or comm(entry.name) != "banger-console":
            continue
        try:
            if any(os.readlink(fd).startswith(str(directory) + "/")
                   for fd in (entry / "fd").iterdir()):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def ns_taps(netns):
    out = subprocess.run(["ip", "-n", netns, "-j", "link", "show", "type", "tun"],
                         check=True, capture_output=True, text=True).stdout
    return [link["ifname"] for link in json.loads(out or "[]")]


def loop_devices_under(directory):
    out = subprocess.run(["losetup", "-J", "-l"], capture_output=True, text=True).stdout
    devices = json.loads(out or '{"loopdevices": []}').get("loopdevices", [])
    return [d for d in devices if str(directory) in (d.get("back-file") or "")]


def mounts_under(directory):
    lines = pathlib.Path("/proc/self/mountinfo").read_text().splitlines()
    return [line for line in lines if str(directory) in line]


def lock_files(state):
    files = [p for p in (state / "locks").glob("*")] if (state / "locks").exists() else []
    return files + [p for p in state.glob("*.lock")]


if __name__ == "__main__":
    unittest.main()
