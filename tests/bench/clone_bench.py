#!/usr/bin/python3
"""Clone benchmark, in the same run and on the same image and kernel, one
step at a time (nothing else competing for the CPU), in a network namespace
made for the run:

1. a cold boot: `banger apply` of one VM until it is ready (SSH login
   works), against a clone restored from a snapshot of that VM until it is
   ready; each also until the first `vm ssh NAME -- true` after the apply
   succeeds (retried, the failures printed), so both end at a login made
   from outside. The goal is a ratio of 0.1 or less.
2. four clones restored by one apply (its default parallelism, 4): wall
   time and each clone's create step.
3. bytes each clone wrote to disk: allocated blocks (st_blocks * 512) under
   its VM dir, against the snapshot's state (memory and device) size and
   the snapshot's own allocated bytes.
Prints every number."""

import json
import os
import pathlib
import re
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
import harness  # noqa: E402

SETTINGS = """
[settings]
subnet = "172.30.26.0/24"
""" + harness.artifacts_toml()

SOURCE = """
[[vm]]
name = "src"
image = "base"
kernel = "cloud"
vcpus = 1
memory = "512M"
disk = "1G"
"""

SNAPSHOT = """
[[snapshot]]
name = "warm"
vm = "src"
"""

PARALLEL = 4

STEP_DONE = re.compile(r"^(\S+): (\w+) done in ([0-9.]+)s$", re.M)


def clones(*names):
    return "".join(f'\n[[vm]]\nname = "{n}"\nfrom_snapshot = "warm"\n' for n in names)


def allocated_bytes(directory):
    """Blocks allocated under `directory` (as du counts them: each inode
    once, symlinks not followed)."""
    seen, total = set(), 0
    for root, dirs, files in os.walk(directory):
        for name in dirs + files:
            st = os.lstat(os.path.join(root, name))
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_blocks * 512
    return total


def refusals(failed):
    return f" ({len(failed)} failed tries first: {failed[0]})" if failed else ""


def mib(n):
    return f"{n / (1 << 20):.1f} MiB"


class Bench:
    def __init__(self):
        self.scratch = harness.Scratch(prefix="banger-clonebench-")
        self.state = self.scratch.path / "state"
        self.netns = harness.Netns(prefix="bgbench")
        self.helper, sock = harness.start_helper(self.netns, 0, self.scratch)
        self.env = harness.banger_env(self.state, {
            "BANGER_HELPER_SOCKET": str(sock),
            "BANGER_CACHE_DIR": os.environ.get("BANGER_CACHE_DIR", "/var/cache/banger"),
            # The run's own SSH key and known_hosts.
            "XDG_CONFIG_HOME": str(self.scratch.path / "config")})
        # A forced accelerator (kvm or tcg) reaches every banger of the run.
        if os.environ.get("BANGER_ACCEL"):
            self.env["BANGER_ACCEL"] = os.environ["BANGER_ACCEL"]

    def close(self):
        harness.close_fleet(self.state, self.helper, self.netns, self.scratch)

    def banger(self, *args, netns=True, timeout=900):
        return harness.run_banger(args, self.env, netns=self.netns.name if netns else None,
                                  timeout=timeout, check=True)

    def apply(self, name, text, timeout=900, check=True):
        """Applies SETTINGS + `text`; returns (wall seconds, {step: seconds},
        [failed step lines])."""
        spec = self.scratch.write(f"{name}.toml", SETTINGS + text)
        t0 = time.monotonic()
        r = harness.run_banger(["apply", "--yes", "-f", str(spec)], self.env,
                               netns=self.netns.name, timeout=timeout, check=check)
        wall = time.monotonic() - t0
        steps = {m.group(1): float(m.group(3)) for m in STEP_DONE.finditer(r.stdout)}
        return wall, steps, [l for l in r.stdout.splitlines() if ": failed after " in l]

    def ssh_login(self, vm):
        """Seconds until `vm ssh VM -- true` first succeeds, and the failed
        tries before it (an apply that called the VM ready too early)."""
        t0, failed = time.monotonic(), []
        while True:
            r = harness.run_banger(["vm", "ssh", vm, "--", "true"], self.env,
                                   netns=self.netns.name, timeout=300)
            if r.returncode == 0:
                return time.monotonic() - t0, failed
            failed.append(r.stderr.strip().splitlines()[-1:])
            if time.monotonic() - t0 > 120:
                raise SystemExit(f"bench: no SSH login to {vm} in 120 s: {failed}")
            time.sleep(0.2)

    def run(self):
        spec = self.scratch.write("artifacts.toml", SETTINGS + SOURCE)
        self.banger("apply", "--yes", "-f", str(spec), "--target", "kernel.cloud", "--target",
                    "image.base", netns=False, timeout=3600)

        # 1. Cold boot against one clone of it. Each number is printed as
        # soon as it is measured: a later phase may fail.
        cold, cold_steps, _ = self.apply("cold", SOURCE)
        cold_ssh, cold_refused = self.ssh_login("src")
        boot_step = cold_steps["vm.src"]
        print(f"cold boot (512 MiB, 1 vCPU) to SSH-ready: apply {cold:.1f} s (create step "
              f"{boot_step:.1f} s), + vm ssh -- true {cold + cold_ssh:.1f} s"
              f"{refusals(cold_refused)}", flush=True)
        snap_wall, snap_steps, _ = self.apply("snapshot", SOURCE + SNAPSHOT)
        snap = {s["name"]: s for s in json.loads(self.banger("snapshot", "list",
                                                             "--json").stdout)}["warm"]
        state_bytes = snap["state_bytes"] + snap.get("memory_file_bytes", 0)
        print(f"snapshot of it: apply {snap_wall:.1f} s (step "
              f"{snap_steps['snapshot.warm']:.1f} s), state {mib(state_bytes)}, snapshot "
              f"allocates {mib(snap['allocated_bytes'])}", flush=True)
        clone, clone_steps, _ = self.apply("clone", SOURCE + SNAPSHOT + clones("one"))
        clone_ssh, clone_refused = self.ssh_login("one")
        clone_step = clone_steps["vm.one"]
        print(f"clone to SSH-ready: apply {clone:.1f} s (create step {clone_step:.1f} s), "
              f"+ vm ssh -- true {clone + clone_ssh:.1f} s{refusals(clone_refused)}")
        print(f"clone/cold ratio: apply {clone / cold:.3f}, create step "
              f"{clone_step / boot_step:.3f}, to first ssh login "
              f"{(clone + clone_ssh) / (cold + cold_ssh):.3f} (goal <= 0.1)", flush=True)
        self.apply("no-clones", SOURCE + SNAPSHOT)

        # 2. Four clones in one apply; a clone that fails is named.
        names = [f"p{i}" for i in range(1, PARALLEL + 1)]
        par, par_steps, par_failed = self.apply("parallel", SOURCE + SNAPSHOT + clones(*names),
                                                check=False)
        print(f"{PARALLEL} clones in one apply: {par:.1f} s wall; create steps "
              + ", ".join(f"{n} {par_steps['vm.' + n]:.1f} s" if "vm." + n in par_steps
                          else f"{n} failed" for n in names)
              + f"; {par / clone:.2f}x one clone's apply", flush=True)
        for line in par_failed:
            print(f"  {line}", flush=True)

        # 3. What each clone wrote, against what the snapshot holds.
        made = [n for n in names if "vm." + n in par_steps]
        written = {n: allocated_bytes(self.state / "vms" / n) for n in made}
        source_dir = allocated_bytes(self.state / "vms" / "src")
        if written:
            print("written per clone (allocated under its vm dir): "
                  + ", ".join(f"{n} {mib(b)}" for n, b in written.items())
                  + f"; vs snapshot state {mib(state_bytes)} (mean clone/state "
                  f"{sum(written.values()) / len(written) / state_bytes:.3f}); "
                  f"the source's vm dir {mib(source_dir)}", flush=True)
        self.apply("none", "")
        return 1 if par_failed else 0


def main():
    bench = Bench()
    try:
        return bench.run()
    finally:
        bench.close()


if __name__ == "__main__":
    sys.exit(main())
