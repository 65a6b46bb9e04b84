"""Every example in examples/ applied for real, unmodified: artifacts are
built outside the namespace (cached downloads), then each fleet boots in a
network namespace with the root helper, every VM answers `vm exec`, and an
empty spec removes it again. examples/oci-dev.toml pulls
docker.io/library/debian:bookworm, which this test serves from a registry
on loopback (the cached debootstrap tree pushed as that image) through
$BANGER_REGISTRY_MIRRORS."""

import json
import os
import pathlib
import signal
import sys
import time
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

EXAMPLES = harness.REPO / "examples"


class ExamplesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.scratch = harness.Scratch()
        cls.processes = []
        cls.netns = None
        cls.home = cls.scratch.path / "home"
        demo = cls.home / ".config" / "banger-demo"
        demo.mkdir(parents=True)
        (demo / "hello.txt").write_text("hello from the host\n")
        (demo / "motd.txt").write_text("motd from the host\n")
        (cls.home / ".gitconfig").write_text("[user]\n\tname = Example\n")
        cls.sock = cls.scratch.path / "helper.sock"
        try:
            registry, cls.registry = harness.start_registry(cls.scratch)
            cls.processes.append(registry)
            cls.netns = harness.Netns("bgex")
            cls.processes.append(harness.Process(
                ["ip", "netns", "exec", cls.netns.name, harness.BANGER, "helper", "serve",
                 "--owner", "0", "--socket", str(cls.sock),
                 "--state-dir", str(cls.scratch.path / "helper-state")],
                log=cls.scratch.path / "helper.log"))
            for _ in range(100):
                if cls.sock.exists():
                    break
                time.sleep(0.1)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            for state in cls.scratch.path.glob("state-*"):
                for pid in harness.vmm_pids_under(state):
                    os.kill(pid, signal.SIGKILL)
        finally:
            for p in reversed(cls.processes):
                p.close()
            if cls.netns:
                cls.netns.close()
            cls.scratch.close()

    def env(self, example):
        return harness.banger_env(self.scratch.path / f"state-{example}", {
            "HOME": str(self.home), "BANGER_HELPER_SOCKET": str(self.sock),
            "BANGER_REGISTRY_MIRRORS": f"docker.io={self.registry}"})

    def banger(self, example, *args, netns=False, timeout=900):
        r = harness.run_banger(list(args), self.env(example), timeout=timeout,
                               netns=self.netns.name if netns else None)
        self.assertEqual(r.returncode, 0, f"{example}: banger {' '.join(args)}\n"
                                          f"{r.stdout}\n{r.stderr}")
        return r

    def apply_example(self, example, spec, artifacts, vms):
        targets = [a for t in artifacts for a in ("--target", t)]
        self.banger(example, "validate", "-f", str(spec))
        self.banger(example, "apply", "--yes", "-f", str(spec), *targets, timeout=3000)
        t0 = time.monotonic()
        r = self.banger(example, "apply", "--yes", "-f", str(spec), netns=True)
        print(f"\n{example}: apply of {len(vms)} VMs {time.monotonic() - t0:.1f}s",
              file=sys.stderr)
        for vm in vms:
            self.assertIn(f"vm.{vm}: create done", r.stdout)
            out = self.banger(example, "vm", "exec", vm, "--", "hostname", netns=True).stdout
            self.assertEqual(out.strip(), vm)
        plan = harness.run_banger(["plan", "-f", str(spec), "--detailed-exitcode"],
                                  self.env(example), netns=self.netns.name)
        self.assertEqual(plan.returncode, 0, plan.stdout + plan.stderr)
        return r

    def remove_example(self, example):
        empty = self.scratch.write(f"empty-{example}.toml", "")
        self.banger(example, "apply", "--yes", "-f", str(empty), netns=True)
        self.assertEqual(harness.vmm_pids_under(self.scratch.path / f"state-{example}"), [])

    def test_every_example_applies(self):
        self.assertEqual(sorted(p.name for p in EXAMPLES.iterdir() if p.suffix == ".toml" or
                                p.is_dir()), ["clones.toml", "fleet", "lab.toml", "oci-dev.toml"],
                         "a new example needs a case here")

        self.apply_example("lab", EXAMPLES / "lab.toml", ["kernel.debian-cloud", "image.bookworm"],
                           ["web", "worker"])
        out = self.banger("lab", "vm", "exec", "web", "--", "cat", "/root/hello.txt",
                          netns=True).stdout
        self.assertEqual(out, "hello from the host\n")
        self.remove_example("lab")

        # The clones answer to their own names (re-identified after restore).
        self.apply_example("clones", EXAMPLES / "clones.toml",
                           ["kernel.debian-cloud", "image.bookworm"],
                           ["builder", "worker-1", "worker-2"])
        self.remove_example("clones")

        self.apply_example("fleet", EXAMPLES / "fleet", ["kernel.cloud", "image.base"],
                           ["node-1", "node-2", "node-3"])
        out = self.banger("fleet", "vm", "exec", "node-2", "--", "cat", "/root/motd.txt",
                          netns=True).stdout
        self.assertEqual(out, "motd from the host\n")
        # The fleet's debootstrap tree becomes docker.io/library/debian:bookworm.
        shown = json.loads(self.banger("fleet", "image", "show", "base", "--json").stdout)
        tree = pathlib.Path(harness.CACHE) / "debootstrap" / (shown["digest"][7:] + ".tar")
        self.assertTrue(tree.exists(), tree)
        self.remove_example("fleet")
        harness.push_tree_as_image(tree, f"{self.registry}/library/debian:bookworm",
                                   self.scratch)

        self.apply_example("oci-dev", EXAMPLES / "oci-dev.toml",
                           ["kernel.stock", "image.debian-oci"], ["dev"])
        out = self.banger("oci-dev", "vm", "exec", "dev", "--", "cat", "/root/.gitconfig",
                          netns=True).stdout
        self.assertIn("name = Example", out)
        self.remove_example("oci-dev")


if __name__ == "__main__":
    unittest.main()
