"""`oci = ...` images through the real binary: a real registry on loopback
(Debian's docker-registry), an image pushed with umoci + skopeo, pulled,
flattened (owners and whiteouts kept) and built into an ext4 rootfs."""

import os
import pathlib
import socket
import subprocess
import sys
import tarfile
import time
import unittest
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def add_layer(oci_dir, tag, build):
    """Adds a layer made by build(tarfile) to oci:DIR:TAG."""
    layer = pathlib.Path(oci_dir).parent / f"layer-{time.monotonic_ns()}.tar"
    with tarfile.open(layer, "w") as tar:
        build(tar)
    subprocess.run(["umoci", "raw", "add-layer", "--image", f"{oci_dir}:{tag}", str(layer)],
                   check=True)


def file_entry(tar, name, data, uid=0, gid=0, mode=0o644):
    import io
    info = tarfile.TarInfo(name)
    info.size, info.uid, info.gid, info.mode = len(data), uid, gid, mode
    tar.addfile(info, io.BytesIO(data))


def dir_entry(tar, name, mode=0o755):
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, mode
    tar.addfile(info)


class OciImageTest(unittest.TestCase):
    def setUp(self):
        self.scratch = harness.Scratch()
        self.port = free_port()
        store = self.scratch.path / "registry"
        config = self.scratch.write("registry.yml", f"""
version: 0.1
storage:
  filesystem:
    rootdirectory: {store}
http:
  addr: 127.0.0.1:{self.port}
""")
        self.registry = harness.Process(["docker-registry", "serve", str(config)],
                                        log=self.scratch.path / "registry.log")
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/v2/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        self.env = harness.banger_env(self.scratch.path / "state",
                                      {"BANGER_CACHE_DIR": str(self.scratch.path / "cache")})

    def tearDown(self):
        self.registry.close()
        self.scratch.close()

    def push_image(self):
        oci = str(self.scratch.path / "oci")
        subprocess.run(["umoci", "init", "--layout", oci], check=True)
        subprocess.run(["umoci", "new", "--image", f"{oci}:v1"], check=True)

        def lower(tar):
            for d in ("etc", "home", "home/dev", "opt", "opt/old"):
                dir_entry(tar, d)
            file_entry(tar, "etc/os-release", b"ID=debian\n")
            file_entry(tar, "home/dev/notes", b"mine\n", uid=1000, gid=1000, mode=0o600)
            file_entry(tar, "opt/old/gone", b"x")
            file_entry(tar, "usr-bin-su", b"#!", mode=0o4755)

        def upper(tar):
            file_entry(tar, "opt/old/.wh.gone", b"")
            file_entry(tar, "etc/motd", b"layer two\n")

        add_layer(oci, "v1", lower)
        add_layer(oci, "v1", upper)
        subprocess.run(["skopeo", "copy", "--dest-tls-verify=false", f"oci:{oci}:v1",
                        f"docker://127.0.0.1:{self.port}/tiny:v1"], check=True,
                       capture_output=True)

    def test_pull_flatten_build(self):
        self.push_image()
        spec = self.scratch.write("oci.toml", f"""
[[image]]
name = "tiny"
oci = "127.0.0.1:{self.port}/tiny:v1"
""")
        r = harness.run_banger(["apply", "--yes", "-f", str(spec)], self.env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("flattening 2 layers", r.stdout)
        r = harness.run_banger(["plan", "-f", str(spec), "--detailed-exitcode"], self.env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        images = list((self.scratch.path / "state" / "images").iterdir())
        self.assertEqual(len(images), 1)
        rootfs = str(images[0] / "rootfs.ext4")

        def stat(path):
            return subprocess.run(["debugfs", "-R", f"stat {path}", rootfs],
                                  capture_output=True, text=True).stdout

        self.assertIn("User:  1000   Group:  1000", stat("/home/dev/notes"))
        self.assertIn("Mode:  04755", stat("/usr-bin-su"))
        self.assertIn("Inode:", stat("/etc/motd"))
        self.assertNotIn("Inode:", stat("/opt/old/gone"))
        self.assertNotIn("Inode:", stat("/opt/old/.wh.gone"))
        shown = harness.run_banger(["image", "show", "tiny", "--json"], self.env)
        self.assertIn("sha256:", shown.stdout)

    def test_image_pull_verb_and_tag_drift(self):
        self.push_image()
        ref = f"127.0.0.1:{self.port}/tiny:v1"
        r = harness.run_banger(["image", "pull", ref], self.env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("image.tiny-v1: pulled sha256:", r.stdout)
        self.assertIn("layer sha256:", r.stdout)
        r = harness.run_banger(["image", "pull", ref], self.env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("image.tiny-v1: up to date", r.stdout)

        # A pulled image is not the spec's to prune.
        spec = self.scratch.write("oci.toml", f"""
[[image]]
name = "tiny"
oci = "{ref}"
""")
        r = harness.run_banger(["apply", "--yes", "-f", str(spec)], self.env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        listed = harness.run_banger(["image", "list"], self.env).stdout
        self.assertIn("tiny-v1", listed)
        self.assertIn("tiny ", listed)

        # The tag moves: plan reports drift but changes nothing until asked.
        oci = str(self.scratch.path / "oci")
        add_layer(oci, "v1", lambda tar: file_entry(tar, "etc/motd", b"moved\n"))
        subprocess.run(["skopeo", "copy", "--dest-tls-verify=false", f"oci:{oci}:v1",
                        f"docker://{ref}"], check=True, capture_output=True)
        r = harness.run_banger(["plan", "-f", str(spec), "--detailed-exitcode"], self.env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f"tag {ref} now points at sha256:", r.stdout)
        self.assertIn("--refresh-images", r.stdout)
        r = harness.run_banger(["plan", "-f", str(spec), "--detailed-exitcode",
                                "--refresh-images"], self.env)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("image.tiny", r.stdout)
        r = harness.run_banger(["apply", "--yes", "--refresh-images", "-f", str(spec)],
                               self.env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = harness.run_banger(["plan", "-f", str(spec), "--detailed-exitcode"], self.env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotIn("now points at", r.stdout)
        r = harness.run_banger(["image", "pull", ref], self.env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("image.tiny-v1: pulled sha256:", r.stdout)
        self.assertEqual(len(list((self.scratch.path / "state" / "images").iterdir())), 2)

    def test_image_pull_failures_register_nothing(self):
        r = harness.run_banger(["image", "pull", "Not A Reference"], self.env)
        self.assertEqual(r.returncode, 1)
        self.assertIn("banger: error:", r.stderr)
        self.assertIn("Not A Reference", r.stderr)
        r = harness.run_banger(["image", "pull", f"127.0.0.1:{self.port}/absent:v1",
                                "--name", "Bad_Name"], self.env)
        self.assertEqual(r.returncode, 1)
        self.assertIn("--name", r.stderr)
        r = harness.run_banger(["image", "pull", f"127.0.0.1:{self.port}/absent:v1"], self.env)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("absent", r.stderr)
        self.assertNotIn("absent", harness.run_banger(["image", "list"], self.env).stdout)
        images = self.scratch.path / "state" / "images"
        self.assertEqual(list(images.iterdir()) if images.exists() else [], [])


if __name__ == "__main__":
    unittest.main()
