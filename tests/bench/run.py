#!/usr/bin/python3
"""`make bench`: validate + plan of a 100-VM spec against a state where all
100 are converged (nothing to do), through the real binary. Prints the
median and the ratio to the 100 ms budget."""

import argparse
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--banger", default=str(REPO / "build/reconciler/banger"))
    ap.add_argument("--vms", type=int, default=100)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    fixture = pathlib.Path(args.banger).parents[1] / "tests" / "bench_plan_fixture"
    work = pathlib.Path(tempfile.mkdtemp(prefix="banger-bench-"))
    sleeper = subprocess.Popen(["sleep", "3600"])
    try:
        env = dict(os.environ, BANGER_STATE_DIR=str(work / "state"), NO_COLOR="1")
        env.setdefault("BANGER_CACHE_DIR", "/var/cache/banger")
        (work / "rootfs/etc").mkdir(parents=True)
        (work / "rootfs/etc/hostname").write_text("bench\n")
        # A real kernel: the store checks what it imports.
        artifacts = '[[kernel]]\nname = "k"\ndeb = "linux-image-cloud-amd64"\n\n' \
                    '[[image]]\nname = "img"\ndir = "rootfs"\n'
        spec = work / "fleet.toml"
        spec.write_text(artifacts)
        subprocess.run([args.banger, "apply", "--yes", "-f", str(spec)], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([str(fixture), str(work / "state"), str(args.vms), str(sleeper.pid)],
                       check=True)
        spec.write_text(artifacts + "".join(
            f'\n[[vm]]\nname = "vm{i}"\nimage = "img"\nkernel = "k"\n' for i in range(args.vms)))
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            subprocess.run([args.banger, "validate", "-f", str(spec)], env=env, check=True,
                           stdout=subprocess.DEVNULL)
            r = subprocess.run([args.banger, "plan", "-f", str(spec), "--detailed-exitcode"],
                               env=env, capture_output=True, text=True)
            times.append(time.perf_counter() - t0)
            if r.returncode != 0:
                sys.exit(f"bench: the converged fleet planned changes:\n{r.stdout}{r.stderr}")
        med = statistics.median(times) * 1000
        print(f"validate+plan, {args.vms} converged VMs: median {med:.1f} ms "
              f"(min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f}, {args.runs} runs); "
              f"ratio to the 100 ms budget: {med / 100:.2f}")
        return 0 if med < 100 else 1
    finally:
        sleeper.kill()
        sleeper.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
