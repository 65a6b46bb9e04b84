"""Where the verbs look for state, and what they print, through the real
binary: one precedence for every verb that reads state (--state-dir, then
settings.state_dir of -f, then $BANGER_STATE_DIR, then XDG), not-found
messages that name the state dir, human output by default and JSON with
--json on every data verb, and catalog names checked by validate. Uses a
`dir` image only, so no VM boots."""

import json
import pathlib
import sys
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

SPEC = """
[settings]
state_dir = "{state}"

[[image]]
name = "tiny"
dir = "rootfs"
size = "64M"
"""


class StateDirTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.scratch = harness.Scratch()
        cls.home = cls.scratch.path / "home"
        cls.home.mkdir()
        cls.spec_state = cls.scratch.path / "spec-state"
        root = cls.scratch.path / "rootfs" / "etc"
        root.mkdir(parents=True)
        (root / "hostname").write_text("tiny\n")
        cls.spec = cls.scratch.write("lab.toml", SPEC.format(state=cls.spec_state))
        # No $BANGER_STATE_DIR: the spec's setting is the only pointer.
        cls.env = harness.banger_env("unused", {"HOME": str(cls.home)})
        del cls.env["BANGER_STATE_DIR"]
        r = harness.run_banger(["apply", "--yes", "-f", str(cls.spec)], cls.env)
        assert r.returncode == 0, r.stdout + r.stderr

    @classmethod
    def tearDownClass(cls):
        cls.scratch.close()

    def banger(self, *args, env=None):
        return harness.run_banger(list(args), env or self.env)

    def test_verbs_find_the_spec_state_dir_with_f(self):
        for verb in (["image", "list"], ["image", "show", "tiny"], ["vm", "list", "--all"],
                     ["kernel", "list"], ["doctor"], ["ssh-config", "install"]):
            r = self.banger(*verb, "-f", str(self.spec))
            if verb[0] != "doctor":  # doctor may fail on host checks, not on state
                self.assertEqual(r.returncode, 0, f"{verb}: {r.stdout}{r.stderr}")
            if verb[:2] == ["image", "list"]:
                self.assertIn("tiny", r.stdout)
        self.banger("ssh-config", "uninstall", "-f", str(self.spec))
        # A directory given to -f works too.
        r = self.banger("image", "list", "-f", str(self.scratch.path / "lab.toml"))
        self.assertIn("tiny", r.stdout)

    def test_without_f_the_default_is_named_when_nothing_is_found(self):
        default = self.home / ".local" / "state" / "banger"
        r = self.banger("image", "list")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertIn(f"no images in state dir '{default}' (the default)", r.stderr)
        r = self.banger("image", "show", "tiny")
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"no image 'tiny' in state dir '{default}' (the default)", r.stderr)
        r = self.banger("vm", "exec", "web", "--", "true")
        self.assertIn(f"no vm 'web' in state dir '{default}'", r.stderr)
        r = self.banger("vm", "list")
        self.assertIn(f"no VMs in state dir '{default}'", r.stderr)

    def test_precedence_flag_then_spec_then_environment(self):
        other = self.scratch.path / "other-state"
        # --state-dir beats the spec's setting.
        r = self.banger("image", "list", "-f", str(self.spec), "--state-dir", str(other))
        self.assertEqual(r.stdout, "")
        self.assertIn(f"no images in state dir '{other}' (--state-dir)", r.stderr)
        # The spec's setting beats $BANGER_STATE_DIR.
        env = dict(self.env, BANGER_STATE_DIR=str(other))
        self.assertIn("tiny", self.banger("image", "list", "-f", str(self.spec), env=env).stdout)
        # $BANGER_STATE_DIR beats the default.
        r = self.banger("image", "list", env=env)
        self.assertIn(f"no images in state dir '{other}' ($BANGER_STATE_DIR)", r.stderr)
        # A spec that does not parse is an error naming where.
        bad = self.scratch.write("bad.toml", "[settings]\nstate_dir = 3\n")
        r = self.banger("vm", "list", "-f", str(bad))
        self.assertEqual(r.returncode, 1)
        self.assertIn("bad.toml:2:", r.stderr)
        # plan/apply take --state-dir too.
        r = self.banger("plan", "-f", str(self.spec), "--state-dir", str(other),
                        "--detailed-exitcode")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("+   image.tiny", r.stdout)
        r = self.banger("plan", "-f", str(self.spec), "--detailed-exitcode")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_human_by_default_json_with_flag(self):
        f = ["-f", str(self.spec)]
        human = self.banger("image", "show", "tiny", *f).stdout
        self.assertRegex(human, r"(?m)^name: +tiny$")
        self.assertRegex(human, r"(?m)^used_by: *$|^present: +true$")
        with self.assertRaises(json.JSONDecodeError):
            json.loads(human)
        shown = json.loads(self.banger("image", "show", "tiny", "--json", *f).stdout)
        self.assertEqual(shown["name"], "tiny")
        self.assertTrue(shown["present"])
        listed = json.loads(self.banger("image", "list", "--json", *f).stdout)
        self.assertEqual([i["name"] for i in listed], ["tiny"])
        self.assertEqual(set(listed[0]), {"name", "digest", "rootfs_bytes", "created", "source",
                                          "origin"})
        self.assertEqual(json.loads(self.banger("kernel", "list", "--json", *f).stdout), [])
        self.assertEqual(json.loads(self.banger("vm", "list", "--json", *f).stdout), [])
        catalog = json.loads(self.banger("kernel", "catalog", "--json", *f).stdout)
        self.assertTrue(all(set(e) == {"name", "version", "origin", "pulled_as"}
                            for e in catalog))
        doctor = json.loads(self.banger("doctor", "--json", *f).stdout)
        checks = {c["check"]: c for c in doctor["checks"]}
        self.assertIn(str(self.spec_state), checks["state dir"]["detail"])
        self.assertIn("settings.state_dir at", checks["state dir"]["detail"])
        self.assertEqual(doctor["ok"], all(c["status"] != "fail" for c in doctor["checks"]))

    def test_validate_checks_catalog_names(self):
        bad = self.scratch.write("catalog.toml",
                                 '[[kernel]]\nname = "k"\ncatalog = "no-such-kernel"\n')
        r = self.banger("validate", "-f", str(bad))
        self.assertEqual(r.returncode, 1)
        self.assertIn("catalog.toml:3:1: kernel.k.catalog: kernel catalog has no entry "
                      "'no-such-kernel'", r.stderr)
        good = self.scratch.write("catalog-ok.toml", '[[kernel]]\nname = "k"\n'
                                  'catalog = "debian-bookworm-cloud-amd64"\n')
        self.assertEqual(self.banger("validate", "-f", str(good)).returncode, 0)

    def test_version_names_this_build_and_the_helpers(self):
        own = json.loads(self.banger("version", "--json").stdout)
        self.assertEqual(set(own), {"version", "commit", "build_date", "helper", "daemon"})
        self.assertRegex(own["build_date"], r"^\d{4}-\d{2}-\d{2}$")
        build = f'{own["version"]} (commit {own["commit"]}, built {own["build_date"]})'
        self.assertEqual(self.banger("--version").stdout.strip(), f"banger {build}")
        helper_out = harness.subprocess.run([harness.HELPER, "--version"], capture_output=True,
                                            text=True).stdout
        self.assertEqual(helper_out.strip(), f"banger-helper {build}, protocol 4")
        self.assertFalse(own["helper"]["reachable"])
        sock = self.scratch.path / "helper.sock"
        helper = harness.Process([harness.BANGER, "helper", "serve", "--owner", "0", "--socket",
                                  str(sock), "--state-dir", str(self.scratch.path / "hs")],
                                 log=self.scratch.path / "helper.log")
        try:
            for _ in range(100):
                if sock.exists():
                    break
                harness.time.sleep(0.1)
            env = dict(self.env, BANGER_HELPER_SOCKET=str(sock))
            shown = json.loads(self.banger("version", "--json", env=env).stdout)
            self.assertTrue(shown["helper"]["reachable"], shown)
            self.assertEqual(shown["helper"]["build"], build)
            self.assertTrue(shown["helper"]["same_build"])
            human = self.banger("version", env=env)
            self.assertIn(f"helper {build} at {sock}", human.stdout)
            self.assertNotIn("warning", human.stderr)
        finally:
            helper.close()


if __name__ == "__main__":
    unittest.main()
