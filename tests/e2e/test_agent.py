"""The guest agent end to end: a VM boots under QEMU (inside a network
namespace the test creates, the engine as an unprivileged user), readiness
goes through the agent, and `vm exec` runs over it: exit codes, stdout and
stderr apart, stdin piped, env and cwd, signals forwarded, a terminal
with its size and a resize; `--via ssh` gives the same answers, and
file_sync into the running VM copies through the agent. A guest flooding
its console for a minute keeps console.log within its cap and `vm exec`
answering (latency before and during printed)."""

import fcntl
import os
import pathlib
import pty
import select
import signal
import statistics
import struct
import termios
import subprocess
import sys
import time
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

SPEC = """
[settings]
bridge = "bg0"
subnet = "172.30.11.0/24"
""" + harness.artifacts_toml() + """
[[file_sync]]
name = "tree"
host = "tree"
guest = "/root/tree"

[[vm]]
name = "web"
image = "base"
kernel = "cloud"
vcpus = 1
memory = "384M"
disk = "1G"
file_sync = ["tree"]
"""


class AgentTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.user = harness.ensure_test_user()
        cls.scratch = harness.Scratch(owner=cls.user)
        cls.state = cls.scratch.path / "state"
        cls.cache = harness.user_cache(cls.user)
        cls.spec = cls.scratch.write("fleet.toml", SPEC)
        cls.scratch.write("tree/a.txt", "alpha\n")
        cls.scratch.write("tree/sub/b.sh", "#!/bin/sh\necho b\n")
        os.chmod(cls.scratch.path / "tree/sub/b.sh", 0o750)
        for p in cls.scratch.path.rglob("*"):
            os.chown(p, cls.user.pw_uid, cls.user.pw_gid)
        cls.netns = harness.Netns()
        cls.helper, cls.sock = harness.start_helper(cls.netns, cls.user.pw_uid, cls.scratch)
        cls.env = harness.banger_env(cls.state, {
            "BANGER_CACHE_DIR": str(cls.cache), "HOME": cls.user.pw_dir,
            "BANGER_HELPER_SOCKET": str(cls.sock)})

    @classmethod
    def tearDownClass(cls):
        harness.delete_fleet(cls.banger_cls, cls.state, cls.helper, cls.netns, cls.scratch)

    @classmethod
    def banger_cls(cls, *args, netns=True, timeout=900, stdin=None):
        return harness.run_banger(args, cls.env, user=cls.user, timeout=timeout, stdin=stdin,
                                  netns=cls.netns.name if netns else None)

    def ok(self, *args, **kw):
        r = self.banger_cls(*args, **kw)
        self.assertEqual(r.returncode, 0, f"banger {args}:\n{r.stdout}\n{r.stderr}")
        return r

    def exec(self, via, *argv, stdin=None, opts=()):
        return self.banger_cls("vm", "exec", "web", "--via", via, *opts, "--", *argv, stdin=stdin)

    def test_agent(self):
        self.ok("apply", "--yes", "-f", str(self.spec), "--target", "kernel.cloud",
                "--target", "image.base", netns=False, timeout=1800)
        r = self.ok("apply", "--yes", "-f", str(self.spec))
        self.assertIn("guest agent answers", r.stdout)
        self.assertIn("ssh login works", r.stdout)
        # The console line the host waits for.
        console = (self.state / "vms" / "web" / "console.log").read_text(errors="replace")
        self.assertIn("BANGER-AGENT", console)
        r = self.exec("agent", "stat", "-c", "%a %u %n", "/root/tree/a.txt", "/root/tree/sub/b.sh")
        self.assertEqual(r.stdout, "644 0 /root/tree/a.txt\n750 0 /root/tree/sub/b.sh\n", r.stderr)

        for via in ("agent", "ssh"):
            with self.subTest(via=via):
                r = self.exec(via, "sh", "-c", "echo out; echo err >&2; exit 3")
                self.assertEqual((r.returncode, r.stdout, r.stderr), (3, "out\n", "err\n"))
                r = self.exec(via, "tr", "a-z", "A-Z", stdin="piped through\n")
                self.assertEqual((r.returncode, r.stdout), (0, "PIPED THROUGH\n"))
                r = self.exec(via, "sh", "-c", 'printf "%s %s" "$GREETING" "$(pwd)"',
                              opts=("-e", "GREETING=hi there", "-w", "/etc"))
                self.assertEqual((r.returncode, r.stdout), (0, "hi there /etc"))
                self.assertEqual(self.exec(via, "pwd").stdout, "/root\n")
                self.assertEqual(self.exec(via, "hostname").stdout, "web\n")

        # file_sync into the running VM goes through the agent.
        self.scratch.write("tree/a.txt", "changed\n")
        new = self.scratch.write("tree/new.txt", "new\n")
        os.chmod(new, 0o600)
        for p in (self.scratch.path / "tree").rglob("*"):
            os.chown(p, self.user.pw_uid, self.user.pw_gid)
        r = self.ok("apply", "--yes", "-f", str(self.spec))
        self.assertIn("copying files through the guest agent", r.stdout)
        r = self.exec("agent", "sh", "-c", "cat /root/tree/a.txt; stat -c '%a %u' /root/tree/new.txt; "
                      "ls -A /root/tree")
        self.assertEqual(r.stdout, "changed\n600 0\na.txt\nnew.txt\nsub\n", r.stderr)

        # Over the agent only: no SSH session is made. With sshd stopped,
        # auto still works and --via ssh cannot.
        self.ok("vm", "exec", "web", "--via", "agent", "--", "systemctl", "stop", "ssh.service")
        r = self.exec("auto", "sh", "-c", "echo $((6 * 7))")
        self.assertEqual((r.returncode, r.stdout), (0, "42\n"), r.stderr)
        self.assertNotEqual(self.exec("ssh", "true").returncode, 0)
        self.ok("vm", "exec", "web", "--via", "agent", "--", "systemctl", "start", "ssh.service")

        # A command that cannot run, and one killed by a signal.
        r = self.exec("agent", "no-such-command")
        self.assertEqual(r.returncode, 127)
        self.assertIn("no-such-command", r.stderr)
        self.assertEqual(self.exec("agent", "sh", "-c", "kill -9 $$").returncode, 137)

        # SIGTERM to `vm exec` reaches the guest process group, the
        # background sleep too: as over SSH, the run ends only when nothing
        # holds its output open. "waiting" comes once sleep has replaced the
        # forked shell, which would otherwise take the signal as a trap.
        argv = ["ip", "netns", "exec", self.netns.name, "setpriv",
                f"--reuid={self.user.pw_uid}", f"--regid={self.user.pw_gid}", "--init-groups",
                "--", harness.BANGER, "vm", "exec", "web", "--via", "agent", "--", "sh", "-c",
                "trap 'echo got TERM; exit 5' TERM; sleep 60 & "
                "until [ \"$(cat /proc/$!/comm)\" = sleep ]; do :; done; echo waiting; wait"]
        proc = subprocess.Popen(argv, env=self.env, stdout=subprocess.PIPE, text=True,
                                stdin=subprocess.DEVNULL)
        try:
            self.assertEqual(proc.stdout.readline(), "waiting\n")
            # The banger process itself (the last exec in the chain).
            os.kill(proc.pid, signal.SIGTERM)
            out, _ = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertEqual(out, "got TERM\n")
        self.assertEqual(proc.returncode, 5)

        # A terminal: the guest sees this one's size, and a resize follows.
        pid, fd = pty.fork()
        if pid == 0:
            os.execve("/usr/bin/ip", ["ip", "netns", "exec", self.netns.name, "setpriv",
                                      f"--reuid={self.user.pw_uid}", f"--regid={self.user.pw_gid}",
                                      "--init-groups", "--", harness.BANGER, "vm", "exec", "-t",
                                      "web", "--", "sh", "-c",
                                      "tty; stty size; read line; stty size; echo got:$line"],
                      self.env)
        try:
            fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 99, 0, 0))
            out = b""
            deadline = time.monotonic() + 60
            resized = False
            while time.monotonic() < deadline and b"got:" not in out:
                if select.select([fd], [], [], 0.5)[0]:
                    try:
                        out += os.read(fd, 4096)
                    except OSError:
                        break
                if b"33 99" in out and not resized:
                    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
                    os.kill(pid, signal.SIGWINCH)
                    time.sleep(1)
                    os.write(fd, b"hello\r")
                    resized = True
            if b"got:" not in out:
                os.kill(pid, signal.SIGKILL)  # the banger process we started
            _, status = os.waitpid(pid, 0)
        finally:
            os.close(fd)
        text = out.decode(errors="replace")
        self.assertRegex(text, r"/dev/pts/\d+\r\n33 99\r\n")
        self.assertIn("40 120\r\ngot:hello", text)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)

        self.check_console_flood()

        # `vm stop` asks the guest's init to power off through the agent:
        # a clean power-off even with sshd down.
        self.ok("vm", "exec", "web", "--via", "agent", "--", "systemctl", "stop", "ssh.service")
        t0 = time.monotonic()
        self.ok("vm", "stop", "web")
        print(f"\nvm stop through the agent: {time.monotonic() - t0:.1f}s", file=sys.stderr)
        console = (self.state / "vms" / "web" / "console.log").read_text(errors="replace")
        self.assertIn("reboot: Power down", console)

    def check_console_flood(self):
        """A guest writing to its console as fast as it can for FLOOD_SECONDS
        leaves console.log and console.log.1 within the cap, the logger's
        memory flat, and `vm exec` answering: its latency before and during
        the flood is printed. QEMU's UART paces the console at its baud
        rate, so a minute stays far below the cap; the logger at full pipe
        speed is integration_vmm's "a writer flooding at full speed"."""
        console = self.state / "vms" / "web" / "console.log"
        rotated = console.with_name("console.log.1")
        logger = console_logger_pid(console)
        self.assertIsNotNone(logger, "no console logger holds " + str(console))
        rss_before = rss_kib(logger)

        def exec_seconds():
            t0 = time.monotonic()
            r = self.exec("agent", "true")
            self.assertEqual(r.returncode, 0, r.stderr)
            return time.monotonic() - t0

        before = [exec_seconds() for _ in range(5)]
        logged_before = console_bytes(console, rotated)
        # A unit of its own: the agent serves one host connection at a
        # time, so the flood must not hold the one `vm exec` uses. The host
        # stops it after FLOOD_SECONDS (`timeout` in the guest is a backstop:
        # a loaded TCG guest's clock can lag).
        r = self.exec("agent", "systemd-run", "--unit", "banger-flood", "sh", "-c",
                      f"timeout {4 * FLOOD_SECONDS} sh -c 'while :; do cat /proc/cpuinfo; done' "
                      "> /dev/console")
        self.assertEqual(r.returncode, 0, r.stderr)
        flood_start = time.monotonic()
        during, peak = [], 0
        time.sleep(3)  # the loop is running
        while time.monotonic() < flood_start + FLOOD_SECONDS:
            during.append(exec_seconds())
            peak = max(peak, console_bytes(console, rotated))
            time.sleep(1)
        r = self.exec("agent", "systemctl", "stop", "banger-flood")
        self.assertEqual(r.returncode, 0, r.stderr)
        flood_seconds = time.monotonic() - flood_start
        after = [exec_seconds() for _ in range(3)]
        peak = max(peak, console_bytes(console, rotated))
        logged = peak - logged_before  # a lower bound once the log rotates
        rss_after = rss_kib(logger)
        print(f"\nconsole flood {flood_seconds:.0f}s: vm exec true before median "
              f"{statistics.median(before):.2f}s max {max(before):.2f}s (n={len(before)}); "
              f"during median {statistics.median(during):.2f}s max {max(during):.2f}s "
              f"(n={len(during)}); after median {statistics.median(after):.2f}s; "
              f"{logged} bytes logged ({logged / flood_seconds / 1024:.1f} KiB/s, the UART's "
              f"pace); console.log+.1 peak {peak} bytes (cap {CONSOLE_CAP}); "
              f"logger rss {rss_before} -> {rss_after} KiB", file=sys.stderr)
        self.assertGreater(logged, 64 * 1024, "the flood did not reach the console log")
        self.assertLessEqual(peak, CONSOLE_CAP)
        self.assertEqual(console_logger_pid(console), logger, "the logger did not survive")
        self.assertLess(rss_after, rss_before + 1024, "the logger's memory grew")
        self.assertGreaterEqual(len(during), 10)
        self.assertLess(max(during), 10, "vm exec stalled during the flood")
        # The console is still the VM's: what the guest writes now is logged.
        self.exec("agent", "sh", "-c", "echo BANGER-FLOOD-OVER > /dev/console")
        deadline = time.monotonic() + 10
        while "BANGER-FLOOD-OVER" not in console.read_text(errors="replace"):
            self.assertLess(time.monotonic(), deadline, "console output stopped being logged")
            time.sleep(0.2)


# The console log's cap (vmm::LaunchConfig::console_log_cap) and the flood.
CONSOLE_CAP = 4 << 20
FLOOD_SECONDS = 60


def console_bytes(console, rotated):
    return sum(p.stat().st_size for p in (console, rotated) if p.exists())


def console_logger_pid(console):
    """The process holding `console` open for writing (its logger)."""
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            if comm != "banger-console":
                continue
            for fd in (entry / "fd").iterdir():
                if os.readlink(fd) == str(console):
                    return int(entry.name)
        except OSError:
            continue
    return None


def rss_kib(pid):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


if __name__ == "__main__":
    unittest.main()
