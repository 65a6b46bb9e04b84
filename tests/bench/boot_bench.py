#!/usr/bin/python3
"""Boot benchmark: `banger apply` of one VM until it is ready (SSH login
works) against bare QEMU booting the same kernel, initramfs and a copy of
the same disks until the guest prints BANGER-READY, in the same run.
Networking happens in a namespace made for the run."""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
import harness  # noqa: E402

SPEC = """
[settings]
subnet = "172.30.7.0/24"
""" + harness.artifacts_toml() + """
[[vm]]
name = "bench"
image = "base"
kernel = "cloud"
vcpus = 1
memory = "512M"
disk = "1G"
"""


def tsc_khz():
    for line in open("/proc/cpuinfo"):
        if line.startswith("cpu MHz"):
            return int(float(line.split(":")[1]) * 1000)
    return 0


def bare_qemu(kernel_dir, image_dir, work):
    root = work / "root.ext4"
    disk = work / "work.ext4"
    shutil.copyfile(image_dir / "rootfs.ext4", root)
    shutil.copyfile(image_dir / "work-seed.ext4", disk)
    console = work / "bare-console.log"
    cmdline = ("console=ttyS0 reboot=t panic=-1 root=/dev/vda rw banger.work=/dev/vdb "
               f"banger.hostname=bare tsc_early_khz={tsc_khz()}")
    argv = ["qemu-system-x86_64", "-M", "microvm,acpi=on,rtc=on", "-nodefaults",
            "-no-user-config", "-accel", "tcg", "-m", "512", "-smp", "1", "-display", "none",
            "-kernel", str(kernel_dir / "vmlinuz"), "-initrd", str(kernel_dir / "initrd.img"),
            "-append", cmdline, "-serial", f"file:{console}",
            "-drive", f"id=root,file={root},format=raw,if=none",
            "-device", "virtio-blk-device,drive=root",
            "-drive", f"id=work,file={disk},format=raw,if=none",
            "-device", "virtio-blk-device,drive=work"]
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.monotonic() - t0 < 300:
            if console.exists() and "BANGER-READY" in console.read_text(errors="replace"):
                return time.monotonic() - t0
            if proc.poll() is not None:
                raise SystemExit("bench: bare QEMU exited before the guest was ready")
            time.sleep(0.05)
        raise SystemExit("bench: bare QEMU guest not ready in 300 s")
    finally:
        proc.kill()
        proc.wait()


def main():
    scratch = harness.Scratch(prefix="banger-bootbench-")
    state = scratch.path / "state"
    spec = scratch.write("bench.toml", SPEC)
    netns = harness.Netns(prefix="bgbench")
    sock = scratch.path / "helper.sock"
    env = harness.banger_env(state, {"BANGER_HELPER_SOCKET": str(sock),
                                     "BANGER_CACHE_DIR": os.environ.get(
                                         "BANGER_CACHE_DIR", "/var/cache/banger")})
    helper = harness.Process(["ip", "netns", "exec", netns.name, harness.BANGER, "helper",
                              "serve", "--owner", "0", "--socket", str(sock), "--state-dir",
                              str(scratch.path / "helper-state")])
    try:
        for _ in range(100):
            if sock.exists():
                break
            time.sleep(0.1)
        harness.run_banger(["apply", "--yes", "-f", str(spec), "--target", "kernel.cloud",
                            "--target", "image.base"], env, timeout=3600, check=True)
        kernel = json.loads(harness.run_banger(["kernel", "show", "cloud", "--json"], env,
                                               check=True).stdout)
        image = json.loads(harness.run_banger(["image", "show", "base", "--json"], env,
                                              check=True).stdout)
        # One at a time, so neither run competes with the other for CPU.
        bare_s = bare_qemu(pathlib.Path(kernel["dir"]), pathlib.Path(image["dir"]), scratch.path)
        t0 = time.monotonic()
        harness.run_banger(["apply", "--yes", "-f", str(spec)], env, netns=netns.name,
                           timeout=600, check=True)
        banger_s = time.monotonic() - t0
        harness.run_banger(["apply", "--yes", "-f", str(scratch.write("none.toml", ""))], env,
                           netns=netns.name, timeout=600, check=True)
        print(f"banger apply to SSH-ready: {banger_s:.1f} s; bare QEMU, same kernel, initramfs "
              f"and disk copies, to BANGER-READY on the console: {bare_s:.1f} s; "
              f"ratio {banger_s / bare_s:.2f}")
    finally:
        harness.close_fleet(state, helper, netns, scratch)


if __name__ == "__main__":
    sys.exit(main())
