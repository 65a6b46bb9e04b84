"""OCI images boot to SSH, end to end through the real binaries.

The Debian tree debootstrap made (banger's own cache of it) is pushed as an
OCI image to a real registry on loopback (Debian's docker-registry), with
extra layers on top: one that removes openssh-server the way dpkg would
have and points apt at a package repository served inside the test's
network namespace, one that also removes /sbin/init (a container-style
image), and one that claims an unknown distribution. banger pulls them,
and VMs from them boot under QEMU: as is, with the SSH server installed
on first boot under systemd, and under banger's busybox init, each with
the guest agent answering. The unknown
distribution fails with the first-boot step's reason and leaves nothing.
The engine and the root helper run as root; VMs live in a namespace made
for the test."""

import email.utils
import hashlib
import io
import json
import os
import pathlib
import subprocess
import sys
import tarfile
import time
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

SUBNET = "172.30.13.0/24"
GATEWAY = "172.30.13.1"
REPO_PORT = 8089

ARTIFACTS = harness.artifacts_toml("deb")


def spec_text(registry, vms):
    text = f'[settings]\nbridge = "bgo0"\nsubnet = "{SUBNET}"\n' + ARTIFACTS
    for tag in ("sshd", "nosshd", "noinit", "unknown"):
        text += f'\n[[image]]\nname = "{tag}"\noci = "{registry}/debian:{tag}"\n'
    for name, image in vms:
        text += (f'\n[[vm]]\nname = "{name}"\nimage = "{image}"\nkernel = "cloud"\n'
                 f'vcpus = 1\nmemory = "384M"\ndisk = "1G"\n')
    return text


def add_file(tar, name, data, mode=0o644):
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    tar.addfile(info, io.BytesIO(data))


def whiteout(tar, path):
    parent, _, base = path.rpartition("/")
    add_file(tar, (parent + "/" if parent else "") + ".wh." + base, b"")


def read_members(tar_path, wanted):
    """Contents of the regular files `wanted` (relative names) in a tar, all
    member names, the directories among them, and top-level symlinks."""
    found, names, dirs, links = {}, set(), set(), {}
    with tarfile.open(tar_path) as tar:
        for m in tar:
            name = m.name[2:] if m.name.startswith("./") else m.name
            names.add(name.rstrip("/"))
            if m.isdir():
                dirs.add(name.rstrip("/"))
            if m.issym() and "/" not in name.rstrip("/"):
                links[name.rstrip("/")] = m.linkname.lstrip("/")
            if name in wanted and m.isfile():
                found[name] = tar.extractfile(m).read()
    return found, names, dirs, links


def build_repo(directory):
    """A flat apt repository with openssh-server, downloaded once (outside
    the namespace) from the host's Debian archive."""
    directory.mkdir(parents=True, exist_ok=True)
    if not list(directory.glob("openssh-server_*.deb")):
        subprocess.run(["apt-get", "download", "openssh-server"], cwd=directory, check=True,
                       capture_output=True, timeout=600)
    packages = subprocess.run(["dpkg-scanpackages", "--multiversion", "."], cwd=directory,
                              check=True, capture_output=True, timeout=120).stdout
    (directory / "Packages").write_bytes(packages)
    digest = hashlib.sha256(packages).hexdigest()
    (directory / "Release").write_text(
        "Origin: banger-test\nLabel: banger-test\nSuite: bookworm\nCodename: bookworm\n"
        f"Date: {email.utils.formatdate(usegmt=True)}\n"
        f"SHA256:\n {digest} {len(packages)} Packages\n")


class OciBootTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.scratch = harness.Scratch()
        cls.processes = []
        cls.netns = None
        cls.state = cls.scratch.path / "state"
        cls.sock = cls.scratch.path / "helper.sock"
        cls.env = harness.banger_env(cls.state, {"BANGER_HELPER_SOCKET": str(cls.sock)})
        try:
            cls.setup_fixture()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def setup_fixture(cls):
        registry, cls.registry = harness.start_registry(cls.scratch)
        cls.processes.append(registry)

        # The kernel and the debootstrap tree (cached downloads) come first,
        # outside the namespace.
        cls.spec = cls.scratch.write("lab.toml", spec_text(cls.registry, []))
        cls.banger(["apply", "--yes", "-f", str(cls.spec), "--target", "kernel.cloud",
                    "--target", "image.deb"], timeout=3000)
        shown = json.loads(cls.banger(["image", "show", "deb", "--json"]).stdout)
        tree = pathlib.Path(harness.CACHE) / "debootstrap" / (shown["digest"][7:] + ".tar")
        assert tree.exists(), f"no cached debootstrap tree at {tree}"
        cls.push_images(tree)
        build_repo(pathlib.Path(harness.CACHE) / "oci-boot-repo")

        t0 = time.monotonic()
        r = cls.banger(["apply", "--yes", "-f", str(cls.spec), "--target", "image.sshd",
                        "--target", "image.nosshd", "--target", "image.noinit",
                        "--target", "image.unknown"], timeout=1800)
        cls.image_output = r.stdout
        print(f"pull + build of 4 OCI images: {time.monotonic() - t0:.1f}s", file=sys.stderr)

        cls.netns = harness.Netns("bgoci")
        cls.processes.append(harness.Process(
            ["ip", "netns", "exec", cls.netns.name, harness.BANGER, "helper", "serve", "--owner", "0",
             "--socket", str(cls.sock), "--state-dir", str(cls.scratch.path / "helper-state")],
            env=cls.env, log=cls.scratch.path / "helper.log"))
        for _ in range(100):
            if cls.sock.exists():
                break
            time.sleep(0.1)
        cls.processes.append(harness.Process(
            ["ip", "netns", "exec", cls.netns.name, "/usr/bin/python3", "-m", "http.server",
             str(REPO_PORT), "--bind", "0.0.0.0", "--directory",
             str(pathlib.Path(harness.CACHE) / "oci-boot-repo")],
            log=cls.scratch.path / "repo.log"))

    @classmethod
    def push_images(cls, tree):
        oci = str(cls.scratch.path / "oci")
        subprocess.run(["umoci", "init", "--layout", oci], check=True)
        subprocess.run(["umoci", "new", "--image", f"{oci}:sshd"], check=True)
        subprocess.run(["umoci", "raw", "add-layer", "--image", f"{oci}:sshd", str(tree)],
                       check=True)

        info = "var/lib/dpkg/info/"
        wanted = {"var/lib/dpkg/status", info + "openssh-server.list"}
        files, names, dirs, top_links = read_members(tree, wanted)
        status = files["var/lib/dpkg/status"].decode()
        stanzas = [s for s in status.split("\n\n")
                   if s.strip() and not s.startswith("Package: openssh-server\n")]

        def in_tree(path):
            # dpkg lists /lib/... where the tree has usr/lib/... behind a link.
            first, _, rest = path.partition("/")
            if first in top_links and rest:
                path = top_links[first] + "/" + rest
            return path if path in names else None

        def no_sshd(tar):
            for line in files[info + "openssh-server.list"].decode().splitlines():
                path = in_tree(line.lstrip("/"))
                # Directories (and the top-level links to them, /lib ->
                # usr/lib) are shared with other packages; files go.
                if path and path not in dirs and path not in top_links:
                    whiteout(tar, path)
            for n in sorted(names):
                if n.startswith(info + "openssh-server."):
                    whiteout(tar, n)
            for n in ("etc/systemd/system/multi-user.target.wants/ssh.service",
                      "etc/systemd/system/sshd.service"):
                if n in names:
                    whiteout(tar, n)
            for n in sorted(names):
                if n.startswith("etc/apt/sources.list.d/") and n != "etc/apt/sources.list.d":
                    whiteout(tar, n)
            add_file(tar, "var/lib/dpkg/status", ("\n\n".join(stanzas) + "\n").encode())
            add_file(tar, "etc/apt/sources.list",
                     f"deb [trusted=yes] http://{GATEWAY}:{REPO_PORT}/ ./\n".encode())


        def no_init(tar):
            whiteout(tar, "usr/sbin/init")

        def unknown(tar):
            add_file(tar, "etc/os-release", b'ID=gentoo\nNAME="Gentoo"\n')

        for base, tag, build in (("sshd", "nosshd", no_sshd), ("nosshd", "noinit", no_init),
                                 ("noinit", "unknown", unknown)):
            layer = cls.scratch.path / f"layer-{tag}.tar"
            with tarfile.open(layer, "w") as tar:
                build(tar)
            subprocess.run(["umoci", "raw", "add-layer", "--image", f"{oci}:{base}",
                            "--tag", tag, str(layer)], check=True)
        for tag in ("sshd", "nosshd", "noinit", "unknown"):
            subprocess.run(["skopeo", "copy", "--dest-tls-verify=false", f"oci:{oci}:{tag}",
                            f"docker://{cls.registry}/debian:{tag}"], check=True,
                           capture_output=True, timeout=600)

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.netns and cls.sock.exists():
                empty = cls.scratch.write("empty.toml", '[settings]\nbridge = "bgo0"\n')
                cls.banger(["apply", "--yes", "-f", str(empty)], netns=True, timeout=600)
        finally:
            for p in reversed(cls.processes):
                p.close()
            if cls.netns:
                cls.netns.close()
            cls.scratch.close()

    @classmethod
    def banger(cls, args, netns=False, timeout=900, check=True):
        return harness.run_banger(args, cls.env, timeout=timeout,
                                  netns=cls.netns.name if netns else None, check=check)

    def exec(self, vm, *argv):
        return self.banger(["vm", "exec", vm, "--", *argv], netns=True, check=False)

    def test_oci_images_boot_to_ssh(self):
        self.assertIn("no systemd init in the image: it boots with banger's init",
                      self.image_output)
        spec = self.scratch.write("vms.toml", spec_text(
            self.registry, [("plain", "sshd"), ("fresh", "nosshd"), ("bare", "noinit")]))
        t0 = time.monotonic()
        r = self.banger(["apply", "--yes", "-f", str(spec)], netns=True, timeout=2400,
                        check=False)
        print(f"three OCI VMs to SSH (two install sshd on first boot): "
              f"{time.monotonic() - t0:.1f}s", file=sys.stderr)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("vm.fresh: first boot installed an SSH server", r.stdout)
        self.assertIn("vm.bare: first boot installed an SSH server", r.stdout)
        self.assertNotIn("vm.plain: first boot", r.stdout)
        # The guest agent runs under systemd and under banger's busybox init.
        for vm in ("plain", "fresh", "bare"):
            self.assertIn(f"vm.{vm}: guest agent answers", r.stdout)
            out = self.banger(["vm", "exec", vm, "--via", "agent", "--", "cat", "/etc/hostname"],
                              netns=True, check=False)
            self.assertEqual((out.returncode, out.stdout), (0, vm + "\n"), out.stderr)

        for vm in ("plain", "fresh", "bare"):
            out = self.exec(vm, "cat", "/etc/debian_version")
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            self.assertRegex(out.stdout, r"^12\.")
        self.assertEqual(self.exec("plain", "test", "-e", "/var/lib/banger/sshd-installed")
                         .returncode, 1)
        for vm in ("fresh", "bare"):
            self.assertEqual(self.exec(vm, "test", "-e", "/var/lib/banger/sshd-installed")
                             .returncode, 0)
        self.assertIn("systemd", self.exec("fresh", "readlink", "/proc/1/exe").stdout)
        self.assertEqual(self.exec("fresh", "systemctl", "is-active", "ssh").stdout.strip(),
                         "active")
        self.assertEqual(self.exec("bare", "readlink", "/proc/1/exe").stdout.strip(),
                         "/usr/lib/banger/busybox")

        # banger's init powers off cleanly and the second boot installs nothing.
        t0 = time.monotonic()
        self.banger(["vm", "stop", "bare"], netns=True)
        stop_seconds = time.monotonic() - t0
        logs = self.banger(["vm", "logs", "bare"], netns=True).stdout
        self.assertIn("banger-init: shutting down", logs)
        self.banger(["vm", "start", "bare"], netns=True, timeout=900)
        logs = self.banger(["vm", "logs", "bare"], netns=True).stdout
        self.assertLessEqual(logs.count("BANGER-FIRSTBOOT: installing"), 1)
        self.assertEqual(self.exec("bare", "true").returncode, 0)
        print(f"banger-init stop took {stop_seconds:.1f}s", file=sys.stderr)

        # An unknown distribution without sshd: the reason, and nothing left.
        odd = self.scratch.write("odd.toml", spec_text(
            self.registry, [("plain", "sshd"), ("fresh", "nosshd"), ("bare", "noinit"),
                            ("odd", "unknown")]))
        r = self.banger(["apply", "--yes", "-f", str(odd)], netns=True, timeout=900,
                        check=False)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("first boot: the image has no sshd and its distribution (ID='gentoo'",
                      r.stdout + r.stderr)
        listed = self.banger(["vm", "list", "--all", "-q"], netns=True).stdout.split()
        self.assertEqual(sorted(listed), ["bare", "fresh", "plain"])
        self.assertFalse((self.state / "vms" / "odd").exists()
                         and any((self.state / "vms" / "odd").iterdir()))
        self.assertEqual(len(harness.vmm_pids_under(str(self.state))), 3)


if __name__ == "__main__":
    unittest.main()
