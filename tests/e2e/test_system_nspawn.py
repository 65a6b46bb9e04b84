"""`banger system install|status|restart|uninstall` under a real systemd.

A cached Debian tree boots with systemd as PID 1 in systemd-nspawn, inside
a network namespace this test creates. The built banger and banger-helper
are copied into it side by side; `banger system install --owner alice`
must install them into /usr/local/bin and bring up banger-helper.service
(hardened no worse than systemd-networkd.service by `systemd-analyze
security`, both printed) and banger-daemon.service. The helper must serve
its operations under that hardening (bridge with its dnsmasq, tap, NAT,
names, published ports, in the container's own namespace), both units must
come back after `systemctl restart` and after SIGKILL, `--purge` must refuse
while a VM runs, and `system uninstall` must leave nothing behind. QEMU
must run a guest inside the daemon unit's sandbox. Boot, install and
poweroff times are printed."""

import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402
import nspawn  # noqa: E402

OWNER = "alice"
OWNER_UID = 1500
DIST = "/opt/banger-dist"
STATE = f"/home/{OWNER}/.local/state/banger"


def exposure(container, unit):
    out = container.run(["systemd-analyze", "security", "--no-pager", unit]).stdout
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", out)
    assert m, out
    return float(m.group(1)), out


def helper_call(container, requests, fds=None):
    """Sends requests to the installed helper's socket (as root, which the
    helper admits) and returns the decoded answers. A tap fd an answer
    carries is closed, or appended to `fds` when given (the caller closes
    it)."""
    path = container.path(f"/run/banger/helper-{OWNER_UID}.sock")
    answers = []
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.settimeout(30)
        s.connect(path)
        for request in requests:
            s.send(json.dumps(request).encode())
            msg, ancdata, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(4))
            for level, kind, data in ancdata:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fd = int.from_bytes(data[:4], sys.byteorder)
                    if fds is None:
                        os.close(fd)
                    else:
                        fds.append(fd)
            answers.append(json.loads(msg))
    return answers


def qmp(path, command):
    """One QMP command on a fresh connection; returns its answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(path)
        stream = s.makefile("rw")
        json.loads(stream.readline())  # the greeting
        for request in ({"execute": "qmp_capabilities"}, {"execute": command}):
            stream.write(json.dumps(request) + "\n")
            stream.flush()
            while True:
                answer = json.loads(stream.readline())
                if "event" not in answer:
                    break
        return answer


def sandbox_properties(unit_text):
    """The installed unit's [Service] settings that confine it (not the
    ones saying what it runs), as systemd-run -p arguments."""
    props, in_service = [], False
    for line in unit_text.splitlines():
        if line.startswith("["):
            in_service = line == "[Service]"
        elif in_service and "=" in line and not line.startswith("#"):
            if line.split("=", 1)[0] not in ("Type", "ExecStart", "Restart", "RestartSec"):
                props += ["-p", line]
    return props


class SystemUnitsTest(unittest.TestCase):
    def setUp(self):
        self.scratch = harness.Scratch(prefix="banger-nspawn-")
        self.netns = harness.Netns(prefix="bgsys")
        self.container = None
        self.addCleanup(self.cleanup)

    def cleanup(self):
        took = self.container.close() if self.container else None
        if took is not None:
            print(f"container poweroff: {took:.1f} s")
        root = self.scratch.path / "root"
        self.assertEqual(nspawn.mounts_under(root), [], "mounts left under the container tree")
        if self.container and self.container.proc:
            self.assertIsNotNone(self.container.proc.poll(), "systemd-nspawn still runs")
            if self.container.init_pid:
                self.assertFalse(pathlib.Path(f"/proc/{self.container.init_pid}").exists(),
                                 "the container's init still runs")
        self.netns.close()
        listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        self.assertNotIn(self.netns.name, listed, "network namespace left behind")
        self.scratch.close()

    def unit_show(self, unit):
        out = self.container.run(["systemctl", "show", "--property=ActiveState,MainPID,NRestarts",
                                  unit]).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def wait_active(self, unit, other_than_pid=None, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            show = self.unit_show(unit)
            if show["ActiveState"] == "active" and show["MainPID"] != "0" and \
                    show["MainPID"] != other_than_pid:
                return show
            time.sleep(0.2)
        self.fail(f"{unit} not active (with a new pid) within {timeout} s: {self.unit_show(unit)}\n"
                  + self.container.run(["journalctl", "-u", unit, "--no-pager", "-n", "30"],
                                       check=False).stdout)

    def wait_helper(self, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            try:
                return helper_call(self.container, [{"op": "ping"}])[0]
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def restart_after_sigkill(self, unit):
        """SIGKILLs the unit's main process; Restart= must start a new one."""
        show = self.wait_active(unit)
        self.container.run(["kill", "-KILL", show["MainPID"]])
        again = self.wait_active(unit, other_than_pid=show["MainPID"])
        self.assertGreater(int(again["NRestarts"]), int(show["NRestarts"]), unit)

    def status(self):
        proc = self.container.run(["banger", "system", "status", "--json"], check=False)
        return json.loads(proc.stdout), proc

    def check_host_names(self, c):
        """systemd-resolved routes the vm domain, and only it, to the
        bridge's resolver: the host (not just guests) resolves web.vm,
        through resolved's API and through the stub /etc/resolv.conf names."""
        self.assertEqual(c.run(["resolvectl", "domain", "bgsys0"]).stdout.split(":", 1)[1].split(),
                         ["~vm"])
        self.assertEqual(c.run(["resolvectl", "dns", "bgsys0"]).stdout.split(":", 1)[1].split(),
                         ["10.77.0.1"])
        # Not a default route: other names never go to the bridge's
        # resolver, which forwards them to the host's (here: resolved).
        status = c.run(["resolvectl", "status", "bgsys0"]).stdout
        self.assertIn("-DefaultRoute", status)
        # resolved gives the link a DNS scope once it sees carrier (a tap
        # just made needs a moment on the bridge).
        deadline = time.monotonic() + 10
        while not re.search(r"Current Scopes: DNS", status) and time.monotonic() < deadline:
            time.sleep(0.1)
            status = c.run(["resolvectl", "status", "bgsys0"]).stdout
        start = time.monotonic()
        query = c.run(["resolvectl", "query", "--cache=no", "web.vm"], check=False)
        took = time.monotonic() - start
        print(f"resolvectl query web.vm: {took * 1000:.0f} ms: {query.stdout.strip()}")
        self.assertEqual(query.returncode, 0, query.stdout + query.stderr + status)
        self.assertRegex(query.stdout, r"web\.vm: 10\.77\.0\.2\b")
        start = time.monotonic()
        hosts = c.run(["getent", "hosts", "web.vm"], check=False)
        took = time.monotonic() - start
        print(f"getent hosts web.vm (stub 127.0.0.53): {took * 1000:.0f} ms: {hosts.stdout.strip()}")
        self.assertEqual(hosts.stdout.split()[:2], ["10.77.0.2", "web.vm"], hosts.stderr)
        doctor = c.run(["banger", "doctor"], user=OWNER, check=False).stdout
        self.assertRegex(doctor, r"ok +host names: systemd-resolved runs: ~vm is routed to bgsys0 ",
                         doctor)

    def test_install_restart_kill_uninstall(self):
        c = self.container = nspawn.Container(self.scratch, self.netns.name)
        c.prepare(["useradd", "--create-home", "--uid", str(OWNER_UID), OWNER])
        (c.root / DIST.lstrip("/")).mkdir(parents=True)
        shutil.copy2(harness.BANGER, c.root / DIST.lstrip("/") / "banger")
        shutil.copy2(harness.HELPER, c.root / DIST.lstrip("/") / "banger-helper")
        for binary in ("banger", "banger-helper"):
            ldd = c.prepare(["ldd", f"{DIST}/{binary}"]).stdout
            self.assertNotIn("not found", ldd, f"the tree lacks a library {binary} needs")

        boot = c.boot()
        print(f"container boot: {boot:.1f} s")

        # Both binaries say which build they are.
        build = c.run([f"{DIST}/banger", "--version"]).stdout.strip()
        self.assertRegex(build, r"^banger \d+\.\d+\.\d+ \(commit \w+")
        build = build[len("banger "):]
        self.assertIn(build, c.run([f"{DIST}/banger-helper", "--version"]).stdout)

        start = time.monotonic()
        install = c.run([f"{DIST}/banger", "system", "install", "--owner", OWNER], check=False)
        took = time.monotonic() - start
        print(f"system install: {took:.1f} s (exit {install.returncode})")
        print(install.stdout + install.stderr)
        for binary in ("banger", "banger-helper"):
            self.assertTrue((c.root / "usr/local/bin" / binary).exists(), binary)
        for unit in ("banger-helper.service", "banger-daemon.service"):
            self.assertEqual(c.run(["systemctl", "is-enabled", unit], check=False).stdout.strip(),
                             "enabled")
        helper = self.wait_active("banger-helper.service")

        helper_score, helper_report = exposure(c, "banger-helper.service")
        networkd_score, _ = exposure(c, "systemd-networkd.service")
        daemon_score, _ = exposure(c, "banger-daemon.service")
        print(f"exposure: banger-helper.service {helper_score}, systemd-networkd.service "
              f"{networkd_score}, banger-daemon.service {daemon_score}")
        self.assertLessEqual(helper_score, networkd_score, helper_report)

        # The CLI (as the owner) reaches the installed helper, same build.
        version = c.run(["banger", "version"], user=OWNER).stdout
        self.assertIn(f"helper {build} at /run/banger/helper-{OWNER_UID}.sock", version)
        # ... and finds the unit's daemon in its own default state dir.
        self.assertIn(f"daemon {build} (pid", version)  # needs banger daemon

        # Every kind of helper operation works under the unit's hardening,
        # in the container's (the test's) network namespace.
        # The tap's fd stays open as a VM's VMM holds it: the tap and so the
        # bridge have carrier, without which resolved gives the bridge link
        # no DNS scope and routes no name to it.
        tap_fds = []

        def close_taps():
            while tap_fds:
                os.close(tap_fds.pop())
        self.addCleanup(close_taps)
        answers = helper_call(c, [
            {"op": "ensure_bridge", "name": "bgsys0", "address": "10.77.0.1/24"},
            {"op": "create_tap", "name": "bgsys0t0", "bridge": "bgsys0"},
            {"op": "nat_enable", "address": "10.77.0.2", "bridge": "bgsys0"},
            {"op": "name_set", "bridge": "bgsys0", "vm": "web", "address": "10.77.0.2"},
            {"op": "ports_set", "vm": "web", "address": "10.77.0.2",
             "ports": [{"host_address": "127.0.0.1", "host_port": 2222, "proto": "tcp",
                        "guest_port": 22}]},
        ], fds=tap_fds)
        for answer in answers:
            self.assertTrue(answer["ok"], answers)
        self.assertIn("bgsys0t0", c.run(["ip", "-br", "link"]).stdout)
        self.assertEqual(len(tap_fds), 1, answers)
        self.check_host_names(c)
        self.assertIn("table ip banger", c.run(["nft", "list", "tables"]).stdout)
        dnsmasq = c.run(["ps", "-o", "user=,args=", "-C", "dnsmasq"]).stdout
        self.assertIn("nobody", dnsmasq)

        # Install waits until everything answers; it exits 0 only then.
        self.assertEqual(install.returncode, 0, "system install did not report healthy")  # needs banger daemon
        status, proc = self.status()
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)  # needs banger daemon
        self.assertTrue(status["helper"]["reachable"])
        self.assertEqual(status["helper"]["build"], build)
        self.assertEqual(status["dns"][0]["bridge"], "bgsys0")
        self.assertTrue(status["dns"][0]["answering"], status["dns"])
        self.assertTrue(status["daemon"]["alive"], status["daemon"])  # needs banger daemon
        self.assertEqual(status["daemon"]["build"], build)  # needs banger daemon
        self.assertEqual(status["warnings"], [])
        # The owner reads the same status without root.
        as_owner = c.run(["banger", "system", "status"], user=OWNER, check=False)
        self.assertEqual(as_owner.returncode, 0, as_owner.stdout + as_owner.stderr)  # needs banger daemon
        self.assertIn("dns:        bgsys0 10.77.0.1: answering", as_owner.stdout)

        # systemctl restart and SIGKILL: both units come back with new PIDs.
        c.run(["systemctl", "restart", "banger-helper.service"])
        helper = self.wait_active("banger-helper.service", other_than_pid=helper["MainPID"])
        self.assertEqual(self.wait_helper()["ok"], True)
        self.restart_after_sigkill("banger-helper.service")
        self.assertEqual(self.wait_helper()["ok"], True)
        self.restart_after_sigkill("banger-daemon.service")  # needs banger daemon
        daemon = self.wait_active("banger-daemon.service")  # needs banger daemon
        c.run(["banger", "system", "restart"])  # needs banger daemon
        self.wait_active("banger-daemon.service", other_than_pid=daemon["MainPID"])  # needs banger daemon
        self.wait_helper()
        # After the restarts the bridge's resolver answers again.
        deadline = time.monotonic() + 30
        while True:
            status, proc = self.status()
            if proc.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)  # needs banger daemon
        self.assertTrue(status["dns"][0]["answering"], status["dns"])
        # ... and the host resolves the VM's name through resolved again,
        # also after resolved restarts (it keeps the link's settings).
        self.check_host_names(c)
        c.run(["systemctl", "restart", "systemd-resolved.service"])
        self.check_host_names(c)
        close_taps()
        # A bridge removed behind the helper's back and made again is a new
        # link to resolved: ensure_bridge routes ~vm to it again.
        c.run(["ip", "link", "del", "bgsys0"])
        self.assertNotIn("vm", c.run(["resolvectl", "domain"]).stdout)
        answers = helper_call(c, [
            {"op": "ensure_bridge", "name": "bgsys0", "address": "10.77.0.1/24"},
            {"op": "create_tap", "name": "bgsys0t1", "bridge": "bgsys0"},
        ], fds=tap_fds)
        for answer in answers:
            self.assertTrue(answer["ok"], answers)
        self.check_host_names(c)
        close_taps()

        # The daemon's VMMs run inside its sandbox: QEMU (TCG) executes the
        # guest's firmware there, as the owner, and answers on a unix socket.
        unit_text = (c.root / "etc/systemd/system/banger-daemon.service").read_text()
        home = f"/home/{OWNER}"
        c.run(["systemd-run", "--unit=banger-vmm-check", "--collect"] + sandbox_properties(unit_text)
              + ["--", "qemu-system-x86_64", "-machine", "q35,accel=tcg", "-m", "64",
                 "-display", "none", "-nodefaults", "-no-reboot",
                 "-chardev", f"file,id=bios,path={home}/bios.log",
                 "-device", "isa-debugcon,iobase=0x402,chardev=bios",
                 "-qmp", f"unix:{home}/qmp.sock,server=on,wait=off"])
        bios_log = c.root / home.lstrip("/") / "bios.log"
        deadline = time.monotonic() + 60
        while "SeaBIOS" not in (bios_log.read_text() if bios_log.exists() else ""):
            state = c.run(["systemctl", "is-active", "banger-vmm-check"], check=False).stdout
            self.assertTrue(state.strip() == "active" and time.monotonic() < deadline,
                            "QEMU did not run the firmware under the daemon's sandbox:\n" + c.run(
                                ["journalctl", "-u", "banger-vmm-check", "--no-pager"],
                                check=False).stdout)
            time.sleep(0.2)
        self.assertEqual(bios_log.stat().st_uid, OWNER_UID)
        self.assertEqual(qmp(c.path(f"{home}/qmp.sock"), "query-status")["return"]["status"],
                         "running")
        qmp(c.path(f"{home}/qmp.sock"), "quit")
        deadline = time.monotonic() + 30
        while c.run(["systemctl", "is-active", "banger-vmm-check"], check=False).stdout.strip() \
                in ("active", "deactivating"):
            self.assertLess(time.monotonic(), deadline, "QEMU did not quit")
            time.sleep(0.2)

        # Installing again from the installed binaries (an upgrade in
        # place) restarts both units and keeps what uninstall removes; only
        # root may install.
        refused = c.run(["banger", "system", "install", "--owner", OWNER], user=OWNER, check=False)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("run it as root", refused.stderr)
        helper = self.unit_show("banger-helper.service")
        again = c.run(["/usr/local/bin/banger", "system", "install", "--owner", OWNER],
                      check=False)
        self.assertEqual(again.returncode, 0, again.stdout + again.stderr)  # needs banger daemon
        self.wait_active("banger-helper.service", other_than_pid=helper["MainPID"])
        record = json.loads((c.root / "etc/banger/system.json").read_text())
        self.assertEqual(record["binaries"], ["/usr/local/bin/banger",
                                              "/usr/local/bin/banger-helper"])

        # A purge refuses while a VM runs (a VMM stand-in the owner runs,
        # named by a handles file), and goes ahead with --force.
        vm_dir = f"{STATE}/vms/web"
        c.run(["mkdir", "-p", vm_dir], user=OWNER)
        vmm = subprocess.Popen(c.nsenter(["setpriv", f"--reuid={OWNER}", f"--regid={OWNER}",
                                          "--init-groups", "--", "sh", "-c",
                                          "echo $$; exec sleep 600"]),
                               stdout=subprocess.PIPE, text=True, env=nspawn.ENV)
        vmm_pid = int(vmm.stdout.readline())
        handles = {k: "" for k in ("vmm", "accel", "api_socket", "channel_socket", "console_log",
                                   "tap", "mac", "rootfs", "cow_method", "work_disk", "jail")}
        handles.update(vmm="qemu", pid=vmm_pid, pid_start_ticks=0)
        c.run(["tee", f"{vm_dir}/handles.json"], user=OWNER, stdin=json.dumps(handles))
        refused = c.run(["banger", "system", "uninstall", "--purge"], check=False)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("running VMs (web", refused.stderr)
        self.assertEqual(self.unit_show("banger-helper.service")["ActiveState"], "active")

        c.run(["banger", "system", "uninstall", "--purge", "--force"])
        self.assertEqual(vmm.wait(timeout=10), -signal.SIGKILL)  # the VMM stand-in was killed
        vmm.stdout.close()
        for path in ("/usr/local/bin/banger", "/usr/local/bin/banger-helper",
                     "/etc/systemd/system/banger-helper.service",
                     "/etc/systemd/system/banger-daemon.service",
                     "/etc/systemd/system/multi-user.target.wants/banger-helper.service",
                     "/etc/systemd/system/multi-user.target.wants/banger-daemon.service",
                     "/etc/banger", "/var/lib/banger-helper", STATE):
            self.assertFalse((c.root / path.lstrip("/")).exists(), f"{path} left behind")
        self.assertFalse(pathlib.Path(c.path("/run/banger")).exists(), "/run/banger left behind")
        # systemd drops an unloaded unit from memory at its next garbage
        # collection, which a loaded machine may run a moment later.
        deadline = time.monotonic() + 10
        while True:
            units = c.run(["systemctl", "list-units", "--all", "--no-legend", "banger*"]).stdout
            if not units.strip() or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(units.strip(), "", units)
        unit_files = c.run(["systemctl", "list-unit-files", "--no-legend", "banger*"],
                           check=False).stdout
        self.assertEqual(unit_files.strip(), "", unit_files)
        links = c.run(["ip", "-br", "link"]).stdout
        self.assertNotIn("bgsys0", links, "the helper's bridge or tap left behind")
        # resolved forgets a removed link's settings: no ~vm route is left.
        self.assertNotIn("vm", c.run(["resolvectl", "domain"]).stdout)
        self.assertNotIn("10.77.0.1", c.run(["resolvectl", "dns"]).stdout)
        self.assertEqual(c.run(["nft", "list", "tables"]).stdout.strip(), "",
                         "nftables table left behind")
        procs = c.run(["ps", "-eo", "comm="]).stdout.split()
        for name in ("banger-helper", "banger", "dnsmasq", "sleep"):
            self.assertNotIn(name, procs, f"{name} still runs in the container")


if __name__ == "__main__":
    unittest.main()
