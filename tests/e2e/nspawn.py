"""A Debian tree booted with systemd as PID 1 by systemd-nspawn, for tests
of what banger does under systemd on a host whose own PID 1 is not systemd.

The tree (debootstrap: systemd, dbus, systemd-resolved, the shared
libraries banger links, iproute2, nftables, dnsmasq, QEMU) is built once and cached under
$BANGER_CACHE_DIR/nspawn/<recipe hash>/; each container boots a copy. The
container joins a network namespace the caller created
(--network-namespace-path) and is stopped by the PID of the systemd-nspawn
process that started it."""

import fcntl
import hashlib
import os
import pathlib
import shutil
import signal
import subprocess
import time

import harness

SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
PACKAGES = [
    "systemd", "systemd-sysv", "dbus",
    # What banger and banger-helper link (ldd is checked in the tree).
    "libsqlite3-0", "libarchive13", "libcurl4", "libssh2-1", "libssl3", "libzstd1",
    "libtomlplusplus3",
    # What the helper runs.
    "iproute2", "nftables", "dnsmasq-base", "procps",
    # The host-side route of *.vm the helper sets up where resolved runs.
    "systemd-resolved",
    # What the daemon runs: the VMM, checked under the daemon unit's sandbox.
    "qemu-system-x86",
]
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
       "LANG": "C.UTF-8", "HOME": "/root", "NO_COLOR": "1"}


def cached_tree():
    """The cached tree for this recipe, built with debootstrap when missing
    (206 s measured while a build shared the cores; 462 MB; one builder at
    a time, under a lock)."""
    recipe = f"banger nspawn tree v1\nsuite={SUITE}\nmirror={MIRROR}\n" + ",".join(PACKAGES)
    key = hashlib.sha256(recipe.encode()).hexdigest()[:16]
    base = pathlib.Path(harness.CACHE) / "nspawn"
    base.mkdir(parents=True, exist_ok=True)
    tree = base / key
    with open(base / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (tree / "usr" / "lib" / "systemd" / "systemd").exists():
            return tree
        stage = base / f".stage-{os.getpid()}"
        shutil.rmtree(stage, ignore_errors=True)
        try:
            subprocess.run(["debootstrap", "--variant=minbase", "--include=" + ",".join(PACKAGES),
                            SUITE, str(stage), MIRROR], check=True, capture_output=True,
                           timeout=1800)
            (stage / "etc" / "banger-nspawn-recipe").write_text(recipe)
            stage.rename(tree)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    return tree


def mounts_under(path):
    """Mount points at or below `path` in this mount namespace."""
    prefix = str(path)
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4]
            if point == prefix or point.startswith(prefix + "/"):
                found.append(point)
    return found


class Container:
    """A copy of the cached tree, booted in the network namespace `netns`.
    close() powers it off (SIGTERM to systemd-nspawn, which asks systemd to
    shut down), waits for it, and removes the copy."""

    def __init__(self, scratch, netns):
        self.root = scratch.path / "root"
        subprocess.run(["cp", "-a", "--reflink=auto", str(cached_tree()), str(self.root)],
                       check=True)
        self.netns = netns
        self.log_path = scratch.path / "nspawn.log"
        self.proc = None
        self.init_pid = None

    def prepare(self, argv):
        """Runs a command in the tree before boot (chroot)."""
        return subprocess.run(["chroot", str(self.root)] + argv, env=ENV, text=True,
                              capture_output=True, timeout=120, check=True)

    def boot(self, timeout=120):
        """Starts the container; returns seconds until systemd reports the
        system running (or degraded)."""
        start = time.monotonic()
        log = open(self.log_path, "w")
        # --network-namespace-path joins the test's namespace; --private-network
        # on top gives the container CAP_NET_ADMIN and a writable
        # /proc/sys/net there (nspawn grants both only to a private network).
        self.proc = subprocess.Popen(
            ["systemd-nspawn", "-D", str(self.root), "--register=no", "--keep-unit", "-b",
             "--network-namespace-path=/run/netns/" + self.netns, "--private-network",
             "--console=passive", f"--machine=banger-nspawn-{os.getpid()}"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = start + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"systemd-nspawn exited {self.proc.returncode}:\n"
                                     + self.log_path.read_text())
            if self.init_pid is None:
                self.init_pid = self._find_init()
            if self.init_pid is not None:
                state = self.run(["systemctl", "is-system-running"], check=False).stdout.strip()
                if state in ("running", "degraded"):
                    return time.monotonic() - start
            time.sleep(0.2)
        raise AssertionError(f"container did not finish booting in {timeout} s")

    def _find_init(self):
        """The container's PID 1 (systemd): the child of systemd-nspawn."""
        try:
            children = pathlib.Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
            pids = children.read_text().split()
        except OSError:
            return None
        for pid in pids:
            try:
                if pathlib.Path(f"/proc/{pid}/comm").read_text().strip() == "systemd":
                    return int(pid)
            except OSError:
                pass
        return None

    def nsenter(self, argv):
        return ["nsenter", "-t", str(self.init_pid), "-m", "-u", "-i", "-n", "-p", "--"] + argv

    def run(self, argv, check=True, timeout=180, user=None, stdin=None):
        """Runs a command inside the container (as `user` when given)."""
        env = ENV
        if user is not None:
            argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--"] + argv
            env = dict(ENV, HOME=self.home_of(user))
        proc = subprocess.run(self.nsenter(argv), env=env, text=True, capture_output=True,
                              timeout=timeout, input=stdin)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} exited {proc.returncode}\n"
                                 f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        return proc

    def home_of(self, user):
        """A user's home directory, from the tree's passwd."""
        for line in (self.root / "etc" / "passwd").read_text().splitlines():
            fields = line.split(":")
            if fields[0] == user:
                return fields[5]
        raise KeyError(f"no user {user} in the container")

    def path(self, inside):
        """A path inside the running container, reached from the host (its
        /run is a tmpfs only the container's mount namespace sees)."""
        return f"/proc/{self.init_pid}/root{inside}"

    def close(self, timeout=90):
        """Powers off and returns the seconds it took (None when not booted)."""
        took = None
        if self.proc is not None and self.proc.poll() is None:
            start = time.monotonic()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            took = time.monotonic() - start
        shutil.rmtree(self.root, ignore_errors=True)
        return took
