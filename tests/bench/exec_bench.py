#!/usr/bin/python3
"""`vm exec` benchmark: `banger vm exec web -- true` over the guest agent
against over SSH, 20 round trips each, interleaved in the same run, with one
VM booted under QEMU in a network namespace made for the run. Prints both
medians and their ratio."""

import os
import statistics
import sys
import time
import pathlib

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
import harness  # noqa: E402

RUNS = 20
SPEC = """
[settings]
subnet = "172.30.8.0/24"
""" + harness.artifacts_toml() + """
[[vm]]
name = "web"
image = "base"
kernel = "cloud"
vcpus = 1
memory = "384M"
disk = "1G"
"""


def timed_exec(env, netns, via):
    t0 = time.monotonic()
    harness.run_banger(["vm", "exec", "web", "--via", via, "--", "true"], env, netns=netns,
                       timeout=120, check=True)
    return time.monotonic() - t0


def main():
    scratch = harness.Scratch(prefix="banger-execbench-")
    state = scratch.path / "state"
    spec = scratch.write("bench.toml", SPEC)
    netns = harness.Netns(prefix="bgbench")
    helper, sock = harness.start_helper(netns, 0, scratch)
    env = harness.banger_env(state, {"BANGER_HELPER_SOCKET": str(sock),
                                     "BANGER_CACHE_DIR": os.environ.get(
                                         "BANGER_CACHE_DIR", "/var/cache/banger")})
    try:
        harness.run_banger(["apply", "--yes", "-f", str(spec), "--target", "kernel.cloud",
                            "--target", "image.base"], env, timeout=3600, check=True)
        harness.run_banger(["apply", "--yes", "-f", str(spec)], env, netns=netns.name,
                           timeout=900, check=True)
        times = {"agent": [], "ssh": []}
        # One warm-up each (first SSH connection, page cache), not counted.
        for via in times:
            timed_exec(env, netns.name, via)
        for _ in range(RUNS):
            for via in times:
                times[via].append(timed_exec(env, netns.name, via))
        agent = statistics.median(times["agent"])
        ssh = statistics.median(times["ssh"])
        harness.run_banger(["apply", "--yes", "-f", str(scratch.write("none.toml", ""))], env,
                           netns=netns.name, timeout=600, check=True)
        print(f"vm exec web -- true, median of {RUNS}: agent {agent * 1000:.0f} ms, "
              f"ssh {ssh * 1000:.0f} ms; ssh/agent ratio {ssh / agent:.2f}")
    finally:
        harness.close_fleet(state, helper, netns, scratch)


if __name__ == "__main__":
    sys.exit(main())
