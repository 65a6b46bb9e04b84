"""Workspaces end to end: a repository with history, working-tree changes
of every kind, a symlink, an executable, a binary file, an ignored file and
a submodule is imported into a running VM (QEMU, inside a network namespace
the test creates, the engine as an unprivileged user); the guest changes it
(a commit, an unstaged edit, a new file, a deletion, a chmod, a rename);
`vm workspace export` gives a patch that `git apply --index` on the host at
the base commit turns into exactly the guest's tree. The VM declares a
workspace in its spec: it is imported at create (a branch, submodule
included) and imported again when the ref changes."""

import hashlib
import os
import pathlib
import subprocess
import sys
import time
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

SPEC_HEAD = """
[settings]
bridge = "bg0"
subnet = "172.30.12.0/24"
""" + harness.artifacts_toml("gitbase", ("git",)) + """
[[vm]]
name = "dev"
image = "gitbase"
kernel = "cloud"
vcpus = 1
memory = "512M"
disk = "2G"
"""


def spec_text(repo, ref):
    return SPEC_HEAD + f'workspace = {{ repo = "{repo}", ref = "{ref}" }}\n'


GIT_ENV = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")

# The guest's changes, run in /root/repo.
GUEST_CHANGES = """set -e
echo committed > committed.txt
git add committed.txt
git commit -q -m 'from the guest'
echo 'edited in the guest' >> tracked.txt
echo fresh > guest-new.txt
rm history.txt
chmod +x blob.bin
printf '\\000\\377 appended in the guest' >> blob.bin
git mv tool.sh tools.sh
"""

# The tree as git sees it (modes, blob hashes, paths, gitlinks), through a
# temporary index so the guest's own stays as it is.
GUEST_TREE = """set -e
export GIT_INDEX_FILE=$(mktemp -u)
git add -A
git ls-files -s
rm -f "$GIT_INDEX_FILE"
"""


def git(*args, cwd, user=None):
    """Runs git; as `user` once the files belong to it (git refuses a
    repository another user owns, upload-pack too)."""
    argv = ["git", *args]
    if user is not None:
        argv = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups",
                "--"] + argv
    return subprocess.run(argv, cwd=cwd, env=dict(GIT_ENV, HOME=user.pw_dir if user else "/root"),
                          check=True, text=True, capture_output=True).stdout


class WorkspaceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.user = harness.ensure_test_user()
        cls.scratch = harness.Scratch(owner=cls.user)
        cls.state = cls.scratch.path / "state"
        cls.cache = pathlib.Path(harness.CACHE) / "e2e-user"
        cls.cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(["chown", "-R", f"{cls.user.pw_uid}:{cls.user.pw_gid}", str(cls.cache)],
                       check=True)
        cls.repo = cls.make_repo(cls.scratch.path)
        # Relative to the spec file.
        cls.spec = cls.scratch.write("fleet.toml", spec_text("app", "main"))
        subprocess.run(["chown", "-R", f"{cls.user.pw_uid}:{cls.user.pw_gid}",
                        str(cls.scratch.path)], check=True)
        cls.netns = harness.Netns()
        cls.sock = cls.scratch.path / "helper.sock"
        cls.env = harness.banger_env(cls.state, {
            "BANGER_CACHE_DIR": str(cls.cache), "HOME": cls.user.pw_dir,
            "BANGER_HELPER_SOCKET": str(cls.sock)})
        cls.helper = harness.Process(
            ["ip", "netns", "exec", cls.netns.name, harness.BANGER, "helper", "serve",
             "--owner", str(cls.user.pw_uid), "--socket", str(cls.sock),
             "--state-dir", str(cls.scratch.path / "helper-state")],
            log=cls.scratch.path / "helper.log")
        for _ in range(100):
            if cls.sock.exists():
                break
            time.sleep(0.1)

    @staticmethod
    def make_repo(root):
        sub = root / "sub-origin"
        git("init", "-q", "-b", "main", str(sub), cwd=root)
        (sub / "lib.txt").write_text("library\n")
        git("add", "-A", cwd=sub)
        git("commit", "-q", "-m", "lib", cwd=sub)
        repo = root / "app"
        git("init", "-q", "-b", "main", str(repo), cwd=root)
        git("config", "user.name", "App Person", cwd=repo)
        git("config", "user.email", "app@example.com", cwd=repo)
        git("remote", "add", "origin", "https://example.com/app.git", cwd=repo)
        for i in range(3):
            (repo / "history.txt").write_text(f"{i}\n")
            git("add", "-A", cwd=repo)
            git("commit", "-q", "-m", f"c{i}", cwd=repo)
        (repo / "tracked.txt").write_text("original\n")
        (repo / "gone.txt").write_text("deleted on the host\n")
        (repo / ".gitignore").write_text("*.log\n")
        (repo / "tool.sh").write_text("#!/bin/sh\necho tool\n")
        os.chmod(repo / "tool.sh", 0o755)
        (repo / "blob.bin").write_bytes(bytes(range(256)) * 8)
        os.symlink("tracked.txt", repo / "link")
        git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub), "sub", cwd=repo)
        git("add", "-A", cwd=repo)
        git("commit", "-q", "-m", "files", cwd=repo)
        (repo / "tracked.txt").write_text("modified on the host\n")
        (repo / "gone.txt").unlink()
        (repo / "untracked.txt").write_text("untracked\n")
        (repo / "debug.log").write_text("ignored\n")
        return repo

    @classmethod
    def tearDownClass(cls):
        harness.delete_fleet(cls.banger_cls, cls.state, cls.helper, cls.netns, cls.scratch)

    @classmethod
    def banger_cls(cls, *args, netns=True, timeout=900, stdin=None, cwd=None):
        return harness.run_banger(args, cls.env, user=cls.user, timeout=timeout, stdin=stdin,
                                  netns=cls.netns.name if netns else None, cwd=cwd)

    def ok(self, *args, **kw):
        r = self.banger_cls(*args, **kw)
        self.assertEqual(r.returncode, 0, f"banger {args}:\n{r.stdout}\n{r.stderr}")
        return r

    def guest(self, script, cwd="/root/repo"):
        return self.ok("vm", "exec", "dev", "--via", "agent", "-w", cwd, "--",
                       "sh", "-c", script).stdout

    def test_workspace(self):
        self.ok("apply", "--yes", "-f", str(self.spec), "--target", "kernel.cloud",
                "--target", "image.gitbase", netns=False, timeout=1800)
        # A workspace repo that is not a directory is named with its file,
        # line and key before any VM exists.
        text = spec_text("app/tracked.txt", "main")
        bad = self.scratch.write("bad.toml", text)
        r = self.banger_cls("apply", "--yes", "-f", str(bad))
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{bad}:{text.count(chr(10))}:", r.stderr)
        self.assertIn("vm.dev.workspace.repo: ", r.stderr)
        self.assertIn("is not a directory", r.stderr)
        self.assertEqual(self.vm_names(), [])

        self.ok("apply", "--yes", "-f", str(self.spec))
        self.check_declared_workspace()
        self.guest("rm -rf /root/repo", cwd="/")

        # Bad input fails before the VM is touched.
        r = self.banger_cls("vm", "workspace", "prepare", "dev", str(self.scratch.path / "nope"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("workspace path", r.stderr)
        self.assertIn("does not exist", r.stderr)
        self.assertEqual(self.guest("test -e /root/repo && echo yes || echo no", cwd="/"), "no\n")

        base = git("rev-parse", "HEAD", cwd=self.repo, user=self.user).strip()
        r = self.ok("vm", "workspace", "prepare", "dev", str(self.repo))
        self.assertIn(base[:12], r.stdout)
        # A second import into the same VM is refused.
        r = self.banger_cls("vm", "workspace", "prepare", "dev", str(self.repo))
        self.assertEqual(r.returncode, 1)
        self.assertIn("already has /root/repo", r.stderr)

        # What arrived: the host's changes unstaged, the ignored file not at
        # all, modes, links, identity, origin and the submodule.
        self.assertEqual(self.guest("git status --porcelain"),
                         " D gone.txt\n M tracked.txt\n?? untracked.txt\n")
        self.assertEqual(self.guest("ls debug.log 2>/dev/null; readlink link; stat -c %a tool.sh; "
                                    "cat sub/lib.txt; git config user.name; "
                                    "git config remote.origin.url; git rev-parse HEAD"),
                         f"tracked.txt\n755\nlibrary\nApp Person\nhttps://example.com/app.git\n{base}\n")
        self.assertEqual(self.guest("md5sum < blob.bin").split()[0],
                         hashlib.md5((self.repo / "blob.bin").read_bytes()).hexdigest())

        self.guest(GUEST_CHANGES)
        index_before = self.guest("git status --porcelain")
        patch = self.scratch.path / "changes.patch"
        self.ok("vm", "workspace", "export", "dev", "-o", str(patch))
        # The guest's own index is as the guest left it.
        self.assertEqual(self.guest("git status --porcelain"), index_before)
        self.assertIn(b"GIT binary patch", patch.read_bytes())

        check = self.scratch.path / "check"
        u = self.user
        git("clone", "-q", "--no-checkout", str(self.repo), str(check), cwd=self.scratch.path, user=u)
        git("checkout", "-q", base, cwd=check, user=u)
        git("apply", "--index", str(patch), cwd=check, user=u)
        host_tree = git("ls-files", "-s", cwd=check, user=u)
        self.assertEqual(host_tree, self.guest(GUEST_TREE))
        for name in ("committed.txt", "guest-new.txt", "tools.sh", "untracked.txt"):
            self.assertIn(f"\t{name}\n", host_tree)
        self.assertNotIn("\thistory.txt\n", host_tree)
        self.assertNotIn("\tgone.txt\n", host_tree)
        self.assertIn("100755 ", [l for l in host_tree.splitlines() if l.endswith("\tblob.bin")][0])

        # Standard output works too, and the same patch comes out.
        r = subprocess.run(["ip", "netns", "exec", self.netns.name, "setpriv",
                            f"--reuid={self.user.pw_uid}", f"--regid={self.user.pw_gid}",
                            "--init-groups", "--", harness.BANGER, "vm", "workspace", "export",
                            "dev"], env=self.env, capture_output=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, patch.read_bytes())

        self.check_vm_run()

    def check_declared_workspace(self):
        """The spec's workspace arrived at create (branch main: its files,
        the submodule initialised from the host's checkout at the commit
        main records); a changed ref re-imports in place."""
        u = self.user
        main = git("rev-parse", "main", cwd=self.repo, user=u).strip()
        sub = git("rev-parse", "HEAD", cwd=self.repo / "sub", user=u).strip()
        self.assertEqual(self.guest("git rev-parse HEAD; git symbolic-ref --short HEAD; "
                                    "git status --porcelain; cat tracked.txt sub/lib.txt; "
                                    "git -C sub rev-parse HEAD"),
                         f"{main}\nmain\noriginal\nlibrary\n{sub}\n")
        older = git("rev-parse", "main~1", cwd=self.repo, user=u).strip()
        self.guest("echo guest work > scratch.txt")
        self.spec.write_text(spec_text("app", "main~1"))
        r = self.ok("plan", "-f", str(self.spec))
        self.assertIn("workspace {repo=" + str(self.repo) + ", ref=main} -> {repo=" +
                      str(self.repo) + ", ref=main~1}: update (the guest's /root/repo is "
                      "replaced by a fresh import)", r.stdout)
        self.ok("apply", "--yes", "-f", str(self.spec))
        self.assertEqual(self.guest("git rev-parse HEAD; git status --porcelain; ls"),
                         f"{older}\nhistory.txt\n")
        self.assertEqual(self.ok("plan", "-f", str(self.spec)).stdout.splitlines()[-1],
                         "No changes. The host matches the spec.")

    def vm_names(self):
        return sorted(self.ok("vm", "list", "--all", "-q").stdout.split())

    def taps(self):
        """How many taps the namespace has: the tap pool renames and refills
        them, so names change but a VM that is gone leaves no extra one."""
        out = subprocess.run(["ip", "-n", self.netns.name, "-o", "link", "show", "type", "tun"],
                             capture_output=True, text=True, check=True).stdout
        return len(out.splitlines())

    def check_vm_run(self):
        """`vm run`: refusals before anything exists, --rm leaving nothing,
        the command's status, and a kept VM that apply does not prune."""
        taps, disks = self.taps(), sorted(os.listdir(self.state / "vms"))
        self.assertEqual(self.vm_names(), ["dev"])
        sizes = ("--memory", "384M", "--disk", "1G", "--vcpus", "1")
        base_args = ("--image", "gitbase", "--kernel", "cloud", *sizes)
        r = self.banger_cls("vm", "run", str(self.repo), "--name", "dev", *base_args, "--", "true")
        self.assertEqual(r.returncode, 1)
        self.assertIn("vm 'dev' already exists", r.stderr)
        r = self.banger_cls("vm", "run", str(self.repo), "--disk", "1K", "--image", "gitbase",
                            "--kernel", "cloud", "--", "true")
        self.assertEqual(r.returncode, 1)
        self.assertIn("more than the VM's disk", r.stderr)
        self.assertEqual((self.vm_names(), self.taps()), (["dev"], taps))

        # No PATH: the command after -- runs, and PATH is the current
        # directory. No --image/--kernel and no user config: the built-in
        # recipe, built now (from the download caches the git image filled:
        # the same packages) and kept for later runs.
        r = self.banger_cls("vm", "run", "--rm", "--name", "once", *sizes,
                            "--", "sh", "-c", "pwd; git status --porcelain; exit 7", cwd=self.repo,
                            timeout=1800)
        self.assertEqual(r.returncode, 7, r.stderr)
        self.assertIn("image.builtin-bookworm: building the built-in image", r.stderr)
        self.assertIn("kernel.builtin-cloud: building the built-in kernel", r.stderr)
        self.assertIn("builtin-bookworm", self.ok("image", "list").stdout)
        self.assertEqual(r.stdout, "/root/repo\n D gone.txt\n M tracked.txt\n?? untracked.txt\n")
        self.assertEqual((self.vm_names(), self.taps()), (["dev"], taps))
        self.assertEqual(sorted(os.listdir(self.state / "vms")), disks)
        self.assertFalse([p for p in harness.vmm_pids_under(self.state / "vms" / "once")])

        self.ok("vm", "run", str(self.repo), "--name", "kept", *base_args, "--", "true")
        r = self.ok("vm", "show", "kept")
        self.assertIn("cli", r.stdout)
        self.ok("apply", "--yes", "-f", str(self.spec))
        self.assertEqual(self.vm_names(), ["dev", "kept"])
        self.ok("vm", "rm", "kept")
        self.assertEqual((self.vm_names(), self.taps()), (["dev"], taps))


if __name__ == "__main__":
    unittest.main()
