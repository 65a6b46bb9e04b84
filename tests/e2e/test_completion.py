"""`banger completion bash|zsh|fish` through the real binary and the real
shells: the generated bash script completes verbs, subcommands, flags, spec
files and VM names for sample command lines; fish's own completer answers
from the fish script; zsh loads its script into compinit."""

import os
import pathlib
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

# Stands in for banger on PATH: answers the VM-name query the scripts make
# (real VMs would need a boot) and runs the real binary for the rest.
FAKE_BANGER = """#!/bin/sh
if [ "$*" = "vm list -q --all" ]; then
  printf 'web\\nweb2\\ndb\\n'
  exit 0
fi
exec {real} "$@"
"""

# Completes the words given as arguments (the last is the one being typed)
# the way bash does on TAB, and prints the candidates one per line.
BASH_DRIVER = """
source "$1"
shift
COMP_WORDS=("$@")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMPREPLY=()
_banger
printf '%s\\n' "${COMPREPLY[@]}"
"""


class CompletionTest(unittest.TestCase):
    def setUp(self):
        self.scratch = harness.Scratch()
        self.addCleanup(self.scratch.close)
        self.env = harness.banger_env(self.scratch.path / "state")
        bin_dir = self.scratch.path / "bin"
        bin_dir.mkdir()
        fake = bin_dir / "banger"
        fake.write_text(FAKE_BANGER.format(real=harness.BANGER))
        fake.chmod(0o755)
        self.env["PATH"] = f"{bin_dir}:{self.env['PATH']}"
        self.work = self.scratch.path / "work"
        self.work.mkdir()
        (self.work / "web.toml").write_text("")
        (self.work / "db.toml").write_text("")
        (self.work / "notes").mkdir()

    def script(self, shell):
        r = harness.run_banger(["completion", shell], self.env, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        path = self.scratch.path / f"banger.{shell}"
        path.write_text(r.stdout)
        return path

    def bash_complete(self, script, line):
        words = line.split(" ")
        r = subprocess.run(["bash", "--norc", "-c", BASH_DRIVER, "driver", str(script), *words],
                           env=self.env, cwd=self.work, capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        return sorted(r.stdout.split())

    def test_bash_completes_commands_flags_files_and_vms(self):
        script = self.script("bash")
        cases = {
            "banger v": ["validate", "version", "vm"],
            "banger vm s": ["show", "snapshot", "ssh", "start", "stop"],
            "banger vm logs -": ["--file", "--follow", "--help", "--state-dir", "-f", "-h"],
            "banger vm show w": ["web", "web2"],
            "banger vm stop web ": ["db", "web", "web2"],  # takes several names
            "banger vm show web ": [],                      # takes one
            "banger apply -f ": ["db.toml", "notes", "web.toml"],
            "banger plan --file w": ["web.toml"],
            "banger apply --parallelism ": [],
            "banger completion ": ["bash", "fish", "zsh"],
            "banger vm exec web -- l": [],  # a command for the guest
            "banger kernel ": ["catalog", "list", "rm", "show"],
            "banger snapshot ": ["list", "rm", "show"],
        }
        for line, want in cases.items():
            with self.subTest(line=line):
                self.assertEqual(self.bash_complete(script, line), want)

    def test_bash_registers_for_banger(self):
        script = self.script("bash")
        r = subprocess.run(["bash", "--norc", "-c", f"source {script}; complete -p banger"],
                           env=self.env, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "complete -F _banger banger")

    def test_fish_completes_through_its_own_completer(self):
        if shutil.which("fish") is None:
            self.skipTest("fish is not installed (make deps installs it)")
        script = self.script("fish")
        r = subprocess.run(["fish", "-n", str(script)], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        cases = {
            "banger vm s": ["show", "snapshot", "ssh", "start", "stop"],
            "banger vm show w": ["web", "web2"],
            "banger completion ": ["bash", "fish", "zsh"],
            "banger apply -f w": ["web.toml"],
        }
        for line, want in cases.items():
            with self.subTest(line=line):
                r = subprocess.run(
                    ["fish", "--no-config", "-c", f"source {script}; complete -C '{line}'"],
                    env=self.env, cwd=self.work, capture_output=True, text=True, timeout=60)
                self.assertEqual(r.returncode, 0, r.stderr)
                got = sorted(l.split("\t")[0] for l in r.stdout.splitlines())
                self.assertEqual(got, want)

    def test_zsh_loads_the_script_into_compinit(self):
        if shutil.which("zsh") is None:
            self.skipTest("zsh is not installed (make deps installs it)")
        script = self.script("zsh")
        r = subprocess.run(["zsh", "-n", str(script)], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = subprocess.run(
            ["zsh", "-f", "-c",
             f"autoload -U compinit; compinit -u -D; source {script}; print -r -- $_comps[banger]"],
            env=self.env, cwd=self.work, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "_banger")

    def test_unknown_shell_is_refused(self):
        r = harness.run_banger(["completion", "tcsh"], self.env, timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertIn("tcsh not in {bash,zsh,fish}", r.stderr)


if __name__ == "__main__":
    unittest.main()
