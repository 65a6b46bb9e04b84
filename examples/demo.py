#!/usr/bin/python3
"""`make demo`: boots the VMs of examples/lab.toml and shows them working.

Everything that touches the network happens inside a network namespace made
for the demo: the root helper runs there, so the bridge, the taps and the
VMs live there, and the namespace is deleted at the end. Downloads (the
kernel package, the debootstrap tree) are cached in $BANGER_CACHE_DIR, so a
second run takes a fraction of the first.
"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
BANGER = os.environ.get("BANGER_BIN", str(REPO / "build" / "reconciler" / "banger"))
NETNS = "banger-demo"
RUN = pathlib.Path("/run/banger-demo")
STATE = pathlib.Path(os.environ.get("BANGER_DEMO_STATE", "/var/lib/banger-demo"))
CACHE = os.environ.get("BANGER_CACHE_DIR", "/var/cache/banger")


def env():
    e = dict(os.environ)
    e.update({"BANGER_STATE_DIR": str(STATE), "BANGER_CACHE_DIR": CACHE,
              "BANGER_HELPER_SOCKET": str(RUN / "helper.sock")})
    return e


def step(title):
    print(f"\n==> {title}", flush=True)


def banger(*args, check=True, host_netns=False):
    # Artifacts download from Debian's archive, which the namespace cannot
    # reach; everything with a network device runs inside it.
    argv = [BANGER, *args] if host_netns else ["ip", "netns", "exec", NETNS, BANGER, *args]
    print("$ banger " + " ".join(args), flush=True)
    r = subprocess.run(argv, env=env())
    if check and r.returncode != 0:
        raise SystemExit(f"demo: `banger {' '.join(args)}` exited {r.returncode}")
    return r.returncode


def main():
    if os.geteuid() != 0:
        raise SystemExit("demo: run as root (it creates a network namespace)")
    hello = pathlib.Path.home() / ".config" / "banger-demo" / "hello.txt"
    hello.parent.mkdir(parents=True, exist_ok=True)
    hello.write_text("hello from the host, synced by banger\n")

    subprocess.run(["ip", "netns", "delete", NETNS], stderr=subprocess.DEVNULL)
    subprocess.run(["ip", "netns", "add", NETNS], check=True)
    RUN.mkdir(parents=True, exist_ok=True)
    helper = None
    try:
        subprocess.run(["ip", "-n", NETNS, "link", "set", "lo", "up"], check=True)
        step("starting the root helper inside the namespace")
        helper = subprocess.Popen(
            ["ip", "netns", "exec", NETNS, BANGER, "helper", "serve", "--owner", "0",
             "--socket", str(RUN / "helper.sock"), "--state-dir", str(RUN / "helper-state")],
            env=env())
        for _ in range(100):
            if (RUN / "helper.sock").exists():
                break
            time.sleep(0.1)

        spec = str(REPO / "examples" / "lab.toml")
        step("validate and plan")
        banger("validate", "-f", spec)
        banger("plan", "-f", spec, check=False)
        step("build the kernel and the image (outside the namespace: they download)")
        t0 = time.monotonic()
        banger("apply", "--yes", "-f", spec, "--target", "kernel.debian-cloud",
               "--target", "image.bookworm", host_netns=True)
        print(f"artifacts took {time.monotonic() - t0:.1f}s")
        step("apply: boot the VMs")
        t0 = time.monotonic()
        banger("apply", "--yes", "-f", spec)
        print(f"apply took {time.monotonic() - t0:.1f}s")
        step("the fleet")
        banger("vm", "list")
        banger("vm", "exec", "web", "--", "uname", "-a")
        banger("vm", "exec", "web", "--", "cat", "/root/hello.txt")
        # VMs reach each other over the bridge: web opens worker's sshd port.
        shown = subprocess.run(["ip", "netns", "exec", NETNS, BANGER, "vm", "show", "worker",
                                "--json"],
                               env=env(), capture_output=True, text=True, check=True)
        worker_ip = json.loads(shown.stdout)["ip"]
        banger("vm", "exec", "web", "--", "bash", "-c",
               f"exec 3<>/dev/tcp/{worker_ip}/22 && head -c 7 <&3 && echo")
        step("a second apply has nothing to do")
        banger("plan", "-f", spec)
    finally:
        step("tearing down: apply an empty spec, stop the helper, delete the namespace")
        with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as empty:
            empty.write('[settings]\nbridge = "bg0"\n')
        try:
            banger("apply", "--yes", "-f", empty.name, check=False)
        finally:
            os.unlink(empty.name)
            if helper:
                helper.terminate()
                helper.wait(timeout=30)
            subprocess.run(["ip", "netns", "delete", NETNS])


if __name__ == "__main__":
    sys.exit(main())
