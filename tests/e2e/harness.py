"""Shared pieces of the end-to-end tests: run the real banger binaries in
throwaway state dirs, network namespaces and (optionally) as an unprivileged
user, and make sure nothing is left behind."""

import os
import pathlib
import pwd
import shutil
import signal
import subprocess
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("BANGER_BUILD_DIR", REPO / "build"))
BANGER = os.environ.get("BANGER_BIN", str(BUILD / "reconciler" / "banger"))
HELPER = os.environ.get("BANGER_HELPER_BIN", str(BUILD / "helper" / "banger-helper"))
# Downloads (kernel packages, debootstrap trees) are cached outside the clone.
CACHE = os.environ.get("BANGER_CACHE_DIR", "/var/cache/banger-test")
TEST_USER = "banger-test"


def artifacts_toml(image="base", extra_packages=()):
    """The kernel ("cloud", Debian's cloud kernel package) and debootstrap
    image the VM tests boot; one recipe, so its download is cached once.
    `extra_packages` makes a second recipe (cached on its own, one more
    debootstrap the first time), e.g. git for the workspace tests."""
    include = ", ".join(f'"{p}"' for p in ["openssh-server", "iproute2", *extra_packages])
    return f"""
[[kernel]]
name = "cloud"
deb = "linux-image-cloud-amd64"

[[image]]
name = "{image}"
debootstrap = {{ suite = "bookworm", include = [{include}] }}
"""


def ensure_test_user():
    """The unprivileged user the engine runs as in end-to-end tests."""
    try:
        pw = pwd.getpwnam(TEST_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--create-home", "--shell", "/bin/bash",
                        TEST_USER], check=True)
        pw = pwd.getpwnam(TEST_USER)
    # The user may exist without a home (made elsewhere as a system user);
    # banger keeps its key and ssh config there.
    home = pathlib.Path(pw.pw_dir)
    if not home.is_dir():
        home.mkdir(parents=True, mode=0o755)
        os.chown(home, pw.pw_uid, pw.pw_gid)
    return pw


class Scratch:
    """A temp dir (state dir, spec files) removed at exit."""

    def __init__(self, prefix="banger-e2e-", owner=None):
        self.path = pathlib.Path(tempfile.mkdtemp(prefix=prefix))
        os.chmod(self.path, 0o755)
        if owner is not None:
            os.chown(self.path, owner.pw_uid, owner.pw_gid)

    def write(self, name, text):
        p = self.path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        return p

    def close(self):
        shutil.rmtree(self.path, ignore_errors=True)


def banger_env(state_dir, extra=None):
    env = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "BANGER_STATE_DIR": str(state_dir),
        "BANGER_CACHE_DIR": CACHE,
        "NO_COLOR": "1",
    }
    if extra:
        env.update(extra)
    return env


def run_banger(args, env, timeout=600, stdin=None, netns=None, user=None, check=False, cwd=None):
    """Runs banger (in `cwd` when given); returns CompletedProcess with text output."""
    argv = [BANGER] + list(args)
    if user is not None:
        argv = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}",
                "--init-groups", "--"] + argv
    if netns:
        argv = ["ip", "netns", "exec", netns] + argv
    proc = subprocess.run(argv, env=env, input=stdin, text=True, capture_output=True,
                          timeout=timeout, cwd=cwd)
    if check and proc.returncode != 0:
        raise AssertionError(f"banger {' '.join(args)} exited {proc.returncode}\n"
                             f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


class Netns:
    """A network namespace for one test, deleted at close even on failure."""

    def __init__(self, prefix="bgtest"):
        self.name = f"{prefix}-{os.getpid()}-{int(time.time() * 1000) % 100000}"
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        subprocess.run(["ip", "-n", self.name, "link", "set", "lo", "up"], check=True)

    def close(self):
        subprocess.run(["ip", "netns", "delete", self.name], check=False)


class Process:
    """A background process we started; killed by PID at close."""

    def __init__(self, argv, env=None, log=None):
        self.log = open(log, "w") if log else subprocess.DEVNULL
        self.proc = subprocess.Popen(argv, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    @property
    def pid(self):
        return self.proc.pid

    def close(self, sig=signal.SIGTERM, grace=10):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log is not subprocess.DEVNULL:
            self.log.close()


def user_cache(user):
    """The download cache the unprivileged test user builds into (shared by
    the tests that run the engine as that user), owned by it."""
    cache = pathlib.Path(CACHE) / "e2e-user"
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run(["chown", "-R", f"{user.pw_uid}:{user.pw_gid}", str(cache)], check=True)
    return cache


def start_helper(netns, owner_uid, scratch, extra_args=()):
    """The root helper for `owner_uid`, serving a socket in `scratch` from
    inside the namespace `netns` and logging to scratch/helper.log; returns
    (Process, socket path) once the socket exists."""
    sock = scratch.path / "helper.sock"
    helper = Process(
        ["ip", "netns", "exec", netns.name, BANGER, "helper", "serve",
         "--owner", str(owner_uid), "--socket", str(sock),
         "--state-dir", str(scratch.path / "helper-state"), *extra_args],
        log=scratch.path / "helper.log")
    for _ in range(100):
        if sock.exists():
            break
        time.sleep(0.1)
    return helper, sock


def close_fleet(state, helper, netns, scratch):
    """The end of a test or benchmark that booted VMs: SIGKILLs any VMM
    still running from `state` (by PID), stops the helper, deletes the
    namespace and the scratch dir."""
    for pid in vmm_pids_under(state):
        os.kill(pid, signal.SIGKILL)
    helper.close()
    netns.close()
    scratch.close()


def delete_fleet(banger, state, helper, netns, scratch):
    """The end of a test whose VMs an apply can delete: applies an empty
    spec through `banger` (the test's own way of running the CLI), then
    close_fleet, even when that apply fails."""
    try:
        banger("apply", "--yes", "-f", str(scratch.write("empty.toml", "")))
    finally:
        close_fleet(state, helper, netns, scratch)


def vmm_pids_under(directory):
    """PIDs of processes whose command line mentions `directory` (our own
    state dir, so only VMMs this test started)."""
    pids = []
    needle = str(directory).encode()
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if needle in cmdline:
            pids.append(int(entry.name))
    return pids


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_registry(scratch):
    """A real OCI registry (Debian's docker-registry) on a free loopback
    port, storing under `scratch`; returns (Process, "127.0.0.1:PORT")."""
    import urllib.request
    port = free_port()
    config = scratch.write("registry.yml", f"""
version: 0.1
storage:
  filesystem:
    rootdirectory: {scratch.path / "registry"}
http:
  addr: 127.0.0.1:{port}
""")
    proc = Process(["docker-registry", "serve", str(config)], log=scratch.path / "registry.log")
    address = f"127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://{address}/v2/", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    return proc, address


def push_tree_as_image(tree_tar, destination, scratch):
    """Pushes a root filesystem tarball as a one-layer OCI image to
    `destination` ("127.0.0.1:PORT/library/debian:bookworm")."""
    layout = str(scratch.path / "oci-layout")
    if not os.path.isdir(layout):
        subprocess.run(["umoci", "init", "--layout", layout], check=True)
    subprocess.run(["umoci", "new", "--image", f"{layout}:push"], check=True)
    subprocess.run(["umoci", "raw", "add-layer", "--image", f"{layout}:push", str(tree_tar)],
                   check=True)
    subprocess.run(["skopeo", "copy", "--dest-tls-verify=false", f"oci:{layout}:push",
                    f"docker://{destination}"], check=True, capture_output=True, timeout=600)
