#!/usr/bin/python3
"""Workspace import benchmark: `banger vm workspace prepare` of a
10,000-file, 200 MB repository into a running VM, against the baseline of
`git clone --depth 10` on the host then `tar | ssh tar -x` into the same
VM, interleaved in the same run (one VM under QEMU in a network namespace
made for the run). Prints both medians and the ratio (goal: <= 1.0)."""

import os
import pathlib
import statistics
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
import harness  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
FILES = 10_000
FILE_BYTES = 20 * 1024  # 10,000 x 20 KiB = 200 MB
SPEC = """
[settings]
subnet = "172.30.9.0/24"
""" + harness.artifacts_toml("gitbase", ("git",)) + """
[[vm]]
name = "web"
image = "gitbase"
kernel = "cloud"
vcpus = 1
memory = "512M"
disk = "3G"
"""
GIT_ENV = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@example.com",
               GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@example.com")


def make_repo(root):
    repo = root / "big"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    for i in range(FILES):
        d = repo / f"d{i // 100:03d}"
        d.mkdir(exist_ok=True)
        # Random content: git cannot compress it away, as in a real tree of assets.
        (d / f"f{i:05d}.bin").write_bytes(os.urandom(FILE_BYTES))
    subprocess.run(["git", "add", "-A"], cwd=repo, env=GIT_ENV, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "tree"], cwd=repo, env=GIT_ENV, check=True)
    return repo


def main():
    scratch = harness.Scratch(prefix="banger-wsbench-")
    state = scratch.path / "state"
    spec = scratch.write("bench.toml", SPEC)
    netns = harness.Netns(prefix="bgbench")
    sock = scratch.path / "helper.sock"
    env = harness.banger_env(state, {"BANGER_HELPER_SOCKET": str(sock),
                                     "BANGER_CACHE_DIR": os.environ.get(
                                         "BANGER_CACHE_DIR", harness.CACHE + "/e2e-user")})
    helper = harness.Process(["ip", "netns", "exec", netns.name, harness.BANGER, "helper",
                              "serve", "--owner", "0", "--socket", str(sock), "--state-dir",
                              str(scratch.path / "helper-state")])
    try:
        for _ in range(100):
            if sock.exists():
                break
            time.sleep(0.1)
        repo = make_repo(scratch.path)
        harness.run_banger(["apply", "--yes", "-f", str(spec), "--target", "kernel.cloud",
                            "--target", "image.gitbase"], env, timeout=3600, check=True)
        harness.run_banger(["apply", "--yes", "-f", str(spec)], env, netns=netns.name,
                           timeout=900, check=True)

        def guest(*argv):
            harness.run_banger(["vm", "exec", "web", "--via", "agent", "--", *argv], env,
                               netns=netns.name, timeout=600, check=True)

        def banger_import():
            guest("rm", "-rf", "/root/repo")
            t0 = time.monotonic()
            harness.run_banger(["vm", "workspace", "prepare", "web", str(repo)], env,
                               netns=netns.name, timeout=1800, check=True)
            return time.monotonic() - t0

        def baseline():
            guest("rm", "-rf", "/root/base")
            guest("mkdir", "/root/base")
            clone = scratch.path / "clone"
            subprocess.run(["rm", "-rf", str(clone)], check=True)
            t0 = time.monotonic()
            subprocess.run(["git", "clone", "-q", "--depth", "10", f"file://{repo}", str(clone)],
                           check=True)
            tar = subprocess.Popen(["tar", "-C", str(clone), "-cf", "-", "."],
                                   stdout=subprocess.PIPE)
            ssh = subprocess.run(["ip", "netns", "exec", netns.name, harness.BANGER, "vm", "ssh",
                                  "web", "--", "tar", "-x", "-f", "-", "-C", "/root/base"],
                                 env=env, stdin=tar.stdout, capture_output=True, timeout=1800)
            tar.stdout.close()
            tar.wait()
            if ssh.returncode != 0 or tar.returncode != 0:
                raise RuntimeError(f"baseline failed: {ssh.stderr.decode(errors='replace')}")
            return time.monotonic() - t0

        times = {"banger": [], "baseline": []}
        for _ in range(RUNS):
            times["banger"].append(banger_import())
            times["baseline"].append(baseline())
        ours = statistics.median(times["banger"])
        base = statistics.median(times["baseline"])
        harness.run_banger(["apply", "--yes", "-f", str(scratch.write("none.toml", ""))], env,
                           netns=netns.name, timeout=600, check=True)
        print(f"workspace import of {FILES} files, {FILES * FILE_BYTES // 10**6} MB, median of "
              f"{RUNS}: banger {ours:.1f} s, git clone --depth 10 + tar|ssh {base:.1f} s; "
              f"banger/baseline {ours / base:.2f} (goal <= 1.0)")
    finally:
        harness.close_fleet(state, helper, netns, scratch)


if __name__ == "__main__":
    sys.exit(main())
