#!/usr/bin/python3
"""OCI pull benchmark: `banger apply` of an `[[image]] oci = ...` spec (pull
with sha256 checks, flatten with whiteouts, ext4 build) against the same work
done by standard tools in the same run: `skopeo copy` (registry -> OCI
layout), `umoci unpack` (layout -> rootfs dir) and `mkfs.ext4 -d` (dir ->
ext4 image file).

The fixture is a large multi-layer image built from files every Debian 12
host has (/usr/lib/x86_64-linux-gnu, /usr/share, /usr/bin, ...), capped by a
byte budget, with one whiteout in the top layer. It is pushed to Debian's
docker-registry on loopback; building and pushing it is setup, not timed.
Every timed run starts cold: fresh banger state and cache dirs, fresh OCI
layout dir for skopeo."""

import argparse
import json
import os
import pathlib
import shutil
import signal
import socket
import stat
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
import harness  # noqa: E402

MiB = 1024 * 1024
TIMEOUT = 1800
TAG = "v1"
REPO_NAME = "bench/big"
CLEAN_ENV_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# (host roots walked in order, share of the fixture budget) per layer. The
# roots of different layers do not overlap; a layer that falls short of its
# share (a small host) leaves the rest to the next one, whose later roots
# are there to fill it. Layer 3 also deletes a directory of layer 2 with a
# whiteout.
LAYERS = [
    (["usr/lib/x86_64-linux-gnu"], 0.45),
    (["usr/share"], 0.35),
    (["usr/bin", "usr/libexec", "usr/include", "usr/lib/python3", "usr/lib/python3.11",
      "usr/lib/gcc"], 0.20),
]
# Never put an init into the fixture: banger injects its own into images
# without one.
FORBIDDEN = {"sbin/init", "usr/sbin/init", "bin/init", "usr/bin/init", "init"}


class BenchError(Exception):
    pass


def fail(msg):
    raise BenchError(msg)


def call(argv, env=None, timeout=TIMEOUT):
    """Runs argv (a list) in its own session and returns CompletedProcess with
    text output. On a timeout, Ctrl-C or SIGTERM the whole process group we
    started (the child and anything it spawned, e.g. mkfs.ext4) is stopped by
    its id (SIGTERM, then SIGKILL) before the exception goes on."""
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except BaseException as e:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.communicate(timeout=5)
                break
            except subprocess.TimeoutExpired:
                pass
        proc.communicate()
        if isinstance(e, subprocess.TimeoutExpired):
            fail(f"timed out after {timeout} s: {argv}")
        raise
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def run(argv, what, **kw):
    """Runs argv (a list), raising BenchError with its output on failure."""
    r = call(argv, **kw)
    if r.returncode != 0:
        fail(f"{what}: {argv} exited {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}")
    return r


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fmt_mib(n):
    return f"{n / MiB:,.1f} MiB"


# ---------------------------------------------------------------- fixture


def walk(rel):
    """Yields (rel, lstat) for rel and everything under it, sorted, without
    following symlinks; skips sockets, devices and fifos."""
    host = "/" + rel
    try:
        st = os.lstat(host)
    except OSError:
        return
    if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
        return
    yield rel, st
    if stat.S_ISDIR(st.st_mode):
        try:
            names = sorted(os.listdir(host))
        except OSError:
            return
        for name in names:
            yield from walk(f"{rel}/{name}")


def build_layer_tar(path, roots, budget, extra=None):
    """Writes a layer tar of host files under roots (paths relative to /)
    until `budget` bytes of regular files are in. Returns {rel: (kind, size)}
    for what went in. `extra(tar, added)` may add more entries at the end."""
    added = {}
    total = 0
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        def add(rel, st):
            nonlocal total
            if rel in added or rel in FORBIDDEN:
                return
            try:
                info = tar.gettarinfo("/" + rel, arcname=rel)
            except OSError:
                return
            if info.isreg():
                try:
                    with open("/" + rel, "rb") as f:
                        tar.addfile(info, f)
                except OSError:
                    return
                total += info.size
                added[rel] = ("file", info.size)
            elif info.islnk():
                if info.linkname not in added:
                    return
                tar.addfile(info)
                added[rel] = ("hardlink", 0)
            elif info.isdir() or info.issym():
                tar.addfile(info)
                added[rel] = ("dir" if info.isdir() else "symlink", 0)

        for root in roots:
            parts = root.split("/")
            for i in range(1, len(parts)):  # parent dirs first, as real layers have
                parent = "/".join(parts[:i])
                add(parent, os.lstat("/" + parent))
            for rel, st in walk(root):
                if total >= budget:
                    break
                add(rel, st)
            if total >= budget:
                break
        if extra:
            extra(tar, added)
    return added


def pick_whiteout_victim(lower):
    """A directory one level below usr/share in the lower layer that holds
    some files (or, failing that, one file): deleted by a whiteout in the top
    layer."""
    counts = {}
    for rel, (kind, _) in lower.items():
        parts = rel.split("/")
        if len(parts) >= 4 and parts[:2] == ["usr", "share"] and kind == "file":
            d = "/".join(parts[:3])
            if lower.get(d, ("",))[0] == "dir":
                counts[d] = counts.get(d, 0) + 1
    good = sorted(d for d, n in counts.items() if 20 <= n <= 2000)
    if good:
        return good[0]
    if counts:
        return sorted(counts)[0]
    files = sorted(rel for rel, (kind, _) in lower.items() if kind == "file")
    if files:  # a tiny fixture: delete one file instead
        return files[0]
    fail("fixture: layer 2 has nothing to delete with a whiteout")


def build_fixture(work, budget_bytes):
    """Builds the OCI layout of the fixture; returns (layout dir, stats)."""
    layout = work / "fixture-oci"
    run(["umoci", "init", "--layout", str(layout)], "umoci init")
    run(["umoci", "new", "--image", f"{layout}:{TAG}"], "umoci new")
    layers = []
    victim = None
    share_so_far = 0.0
    bytes_so_far = 0
    for i, (roots, share) in enumerate(LAYERS):
        share_so_far += share
        layer_budget = max(int(budget_bytes * share / 2),
                           int(budget_bytes * share_so_far) - bytes_so_far)
        tar_path = work / f"layer{i + 1}.tar"
        extra = None
        if i == len(LAYERS) - 1:
            victim = pick_whiteout_victim(layers[1])
            parent, name = victim.rsplit("/", 1)

            def extra(tar, added, parent=parent, name=name):
                parts = parent.split("/")
                for j in range(1, len(parts) + 1):
                    d = "/".join(parts[:j])
                    if d not in added:
                        tar.addfile(tar.gettarinfo("/" + d, arcname=d))
                        added[d] = ("dir", 0)
                info = tarfile.TarInfo(f"{parent}/.wh.{name}")
                info.mode = 0o644
                info.mtime = int(time.time())
                tar.addfile(info)
                added[f"{parent}/.wh.{name}"] = ("whiteout", 0)

        layers.append(build_layer_tar(tar_path, roots, layer_budget, extra))
        bytes_so_far += sum(v[1] for v in layers[-1].values())
        run(["umoci", "raw", "add-layer", "--image", f"{layout}:{TAG}", str(tar_path)],
            "umoci raw add-layer")
        tar_path.unlink()

    # The merged view: later layers win; the whiteout removes the victim tree.
    merged = {}
    for added in layers:
        merged.update(added)
    merged = {rel: v for rel, v in merged.items()
              if v[0] != "whiteout" and rel != victim and not rel.startswith(victim + "/")}
    files = [v for v in merged.values() if v[0] in ("file", "hardlink")]
    stats = {
        "layers": len(layers),
        "bytes": sum(v[1] for v in merged.values()),
        "files": len(files),
        "entries": len(merged),
        "victim": victim,
        "victim_files": sum(1 for rel, v in layers[1].items()
                            if rel.startswith(victim + "/") and v[0] == "file"),
        "probe": next(rel for rel, v in sorted(layers[0].items()) if v[0] == "file"),
    }
    # Compressed size from the manifest's layer descriptors.
    index = json.loads((layout / "index.json").read_text())
    digest = index["manifests"][0]["digest"].split(":", 1)[1]
    manifest = json.loads((layout / "blobs" / "sha256" / digest).read_text())
    stats["compressed"] = sum(l["size"] for l in manifest["layers"])
    if len(manifest["layers"]) != len(LAYERS):
        fail(f"fixture: manifest has {len(manifest['layers'])} layers, expected {len(LAYERS)}")
    return layout, stats


# ---------------------------------------------------------------- registry


def start_registry(work):
    port = free_port()
    config = work / "registry.yml"
    config.write_text(f"""version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: {work / "registry"}
http:
  addr: 127.0.0.1:{port}
""")
    proc = harness.Process(["docker-registry", "serve", str(config)],
                           log=work / "registry.log")
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1)
            return proc, port
        except OSError:
            pass
        if proc.proc.poll() is not None or time.monotonic() > deadline:
            log = (work / "registry.log").read_text(errors="replace")
            proc.close()
            fail(f"docker-registry did not come up on 127.0.0.1:{port}\n{log}")
        time.sleep(0.1)


# ---------------------------------------------------------------- timed sides


def side_env(run_dir, extra=None):
    """A clean environment. TMPDIR points into the run's own dir so that
    temp files (banger's debugfs scripts, skopeo's blob buffers) go away with
    it even if a run is cut short; same filesystem as /tmp here."""
    tmp = run_dir / "tmp"
    tmp.mkdir(exist_ok=True)
    env = {
        "PATH": CLEAN_ENV_PATH,
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "NO_COLOR": "1",
        "TMPDIR": str(tmp),
    }
    env.update(extra or {})
    return env


def banger_run(banger, spec, run_dir, probe, victim, check):
    state = run_dir / "state"
    cache = run_dir / "cache"
    env = side_env(run_dir, {"BANGER_STATE_DIR": str(state), "BANGER_CACHE_DIR": str(cache)})
    argv = [banger, "apply", "--yes", "-f", str(spec)]
    t0 = time.monotonic()
    r = call(argv, env=env)
    elapsed = time.monotonic() - t0
    if r.returncode != 0:
        fail(f"banger apply exited {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}")
    images = sorted(state.glob("images/*/rootfs.ext4"))
    if len(images) != 1:
        fail(f"banger apply: expected one images/*/rootfs.ext4 under {state}, found {images}\n"
             f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}")
    if check:  # untimed: the merge really happened
        def exists(path):
            out = run(["debugfs", "-R", f"stat /{path}", str(images[0])], "debugfs").stdout
            return "Inode:" in out
        if not exists(probe):
            fail(f"banger image lacks /{probe} (from layer 1)")
        if exists(victim):
            fail(f"banger image still has /{victim}, deleted by a whiteout")
    return elapsed


def baseline_run(port, run_dir, probe, victim, check):
    layout = run_dir / "layout"
    bundle = run_dir / "bundle"
    img = run_dir / "rootfs.ext4"
    env = side_env(run_dir)
    t0 = time.monotonic()
    run(["skopeo", "copy", "--src-tls-verify=false",
         f"docker://127.0.0.1:{port}/{REPO_NAME}:{TAG}", f"oci:{layout}:{TAG}"], "skopeo copy",
        env=env)
    t1 = time.monotonic()
    run(["umoci", "unpack", "--image", f"{layout}:{TAG}", str(bundle)], "umoci unpack", env=env)
    t2 = time.monotonic()
    rootfs = bundle / "rootfs"
    du = int(run(["du", "-sb", str(rootfs)], "du", env=env).stdout.split()[0])
    # Like banger's default sizing: the content plus metadata, plus room of
    # max(512 MiB, half of that).
    need = int(du * 1.1) + 16 * MiB
    size = -(-(need + max(512 * MiB, need // 2)) // MiB) * MiB
    run(["mkfs.ext4", "-q", "-F", "-d", str(rootfs), str(img), f"{size // 1024}k"],
        "mkfs.ext4", env=env)
    t3 = time.monotonic()
    parts = {"copy": t1 - t0, "unpack": t2 - t1, "mkfs": t3 - t2}
    if check:
        if not (rootfs / probe).exists():
            fail(f"umoci rootfs lacks /{probe} (from layer 1)")
        if (rootfs / victim).exists():
            fail(f"umoci rootfs still has /{victim}, deleted by a whiteout")
    return t3 - t0, parts


def summary(times):
    return (f"median {statistics.median(times):.1f} s (min {min(times):.1f}, "
            f"max {max(times):.1f}, {len(times)} run{'s' if len(times) != 1 else ''})")


# ---------------------------------------------------------------- main


def on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--banger", default=str(REPO / "build" / "reconciler" / "banger"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--fixture-mib", type=int, default=512,
                    help="target uncompressed size of the fixture's layers")
    ap.add_argument("--workdir", default="/var/tmp", help="where the scratch dir goes")
    args = ap.parse_args()
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    banger = os.path.abspath(args.banger)
    if not os.access(banger, os.X_OK):
        print(f"oci bench: no executable banger at {banger}", file=sys.stderr)
        return 1
    missing = [t for t in ("docker-registry", "skopeo", "umoci", "mkfs.ext4", "debugfs", "du")
               if shutil.which(t, path=CLEAN_ENV_PATH) is None]
    if missing:
        print(f"oci bench: missing tools: {', '.join(missing)}", file=sys.stderr)
        return 1
    free = shutil.disk_usage(args.workdir).free
    need = 12 * args.fixture_mib * MiB
    if free < need:
        print(f"oci bench: {args.workdir} has {fmt_mib(free)} free, needs about "
              f"{fmt_mib(need)}", file=sys.stderr)
        return 1

    signal.signal(signal.SIGTERM, on_sigterm)
    work = pathlib.Path(tempfile.mkdtemp(prefix="banger-ocibench-", dir=args.workdir))
    os.chmod(work, 0o755)
    # Setup tools (umoci, skopeo push) keep their temp files in there too.
    (work / "tmp").mkdir()
    os.environ["TMPDIR"] = str(work / "tmp")
    registry = None
    try:
        print(f"oci bench: scratch dir {work} ({fmt_mib(free)} free), banger {banger}",
              flush=True)
        t_setup = time.monotonic()
        layout, st = build_fixture(work, args.fixture_mib * MiB)
        registry, port = start_registry(work)
        run(["skopeo", "copy", "--dest-tls-verify=false", f"oci:{layout}:{TAG}",
             f"docker://127.0.0.1:{port}/{REPO_NAME}:{TAG}"], "skopeo push of the fixture")
        shutil.rmtree(layout)
        print(f"oci pull bench: fixture {st['layers']} layers, {fmt_mib(st['bytes'])} "
              f"({st['bytes']:,} bytes) uncompressed, {st['files']:,} files "
              f"({st['entries']:,} entries), {fmt_mib(st['compressed'])} compressed; "
              f"whiteout deletes /{st['victim']} ({st['victim_files']} files); "
              f"setup {time.monotonic() - t_setup:.1f} s", flush=True)

        spec = work / "bench.toml"
        spec.write_text(f'[[image]]\nname = "big"\noci = "127.0.0.1:{port}/{REPO_NAME}:{TAG}"\n')
        banger_times, base_times, base_parts = [], [], []
        for i in range(args.runs):
            run_dir = work / f"run{i + 1}"
            # Alternate which side goes first so neither always gets the
            # warmer page cache.
            order = ("banger", "baseline") if i % 2 == 0 else ("baseline", "banger")
            for side in order:
                side_dir = run_dir / side
                side_dir.mkdir(parents=True)
                os.sync()
                if side == "banger":
                    t = banger_run(banger, spec, side_dir, st["probe"], st["victim"], i == 0)
                    banger_times.append(t)
                    print(f"  run {i + 1}: banger apply {t:.1f} s", flush=True)
                else:
                    t, parts = baseline_run(port, side_dir, st["probe"], st["victim"], i == 0)
                    base_times.append(t)
                    base_parts.append(parts)
                    print(f"  run {i + 1}: skopeo+umoci+mkfs.ext4 {t:.1f} s "
                          f"[copy {parts['copy']:.1f}, unpack {parts['unpack']:.1f}, "
                          f"mkfs {parts['mkfs']:.1f}]", flush=True)
                shutil.rmtree(side_dir)
            shutil.rmtree(run_dir)

        med = sorted(range(len(base_times)), key=lambda k: base_times[k])[(len(base_times) - 1) // 2]
        p = base_parts[med]
        b_med = statistics.median(banger_times)
        s_med = statistics.median(base_times)
        print(f"banger apply (pull+flatten+ext4): {summary(banger_times)}")
        print(f"skopeo+umoci+mkfs.ext4:           {summary(base_times)}  "
              f"[copy {p['copy']:.1f}, unpack {p['unpack']:.1f}, mkfs {p['mkfs']:.1f}]")
        print(f"ratio banger/baseline: {b_med / s_med:.2f}")
        return 0
    except BenchError as e:
        print(f"oci bench: FAILED: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("oci bench: interrupted", file=sys.stderr)
        return 130
    finally:
        # No second Ctrl-C or SIGTERM may cut the cleanup short.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if registry is not None:
            registry.close()
        shutil.rmtree(work, ignore_errors=True)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)


if __name__ == "__main__":
    sys.exit(main())
