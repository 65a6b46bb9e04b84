#!/bin/sh
# banger first boot: installs an SSH server with the distribution's package
# manager when the image has none (container images usually ship without),
# so every VM ends up with a reachable sshd.
#
# Runs once per VM: the marker /var/lib/banger/sshd-installed records a
# successful install. The distribution comes from /etc/os-release (ID, then
# ID_LIKE). Failures print one BANGER-FIRSTBOOT-ERROR line on the console,
# which the host reports as the reason the VM did not become ready.
#
# BANGER_SYSROOT prefixes every path so the logic can run outside a VM
# (the package managers are then whatever is on PATH).
set -u

sysroot=${BANGER_SYSROOT:-}
marker=$sysroot/var/lib/banger/sshd-installed
console=$sysroot/dev/console

say() {
  echo "banger-firstboot: $*"
}

fail() {
  echo "BANGER-FIRSTBOOT-ERROR: $*"
  # The console is where the host looks; stdout may be a journal.
  echo "BANGER-FIRSTBOOT-ERROR: $*" > "$console" 2>/dev/null || true
  exit 1
}

have_sshd() {
  for p in /usr/sbin/sshd /sbin/sshd /usr/bin/sshd; do
    [ -x "$sysroot$p" ] && return 0
  done
  return 1
}

if have_sshd; then
  exit 0
fi
if [ -e "$marker" ]; then
  fail "sshd was installed on an earlier boot and is gone; reinstall openssh-server in the VM or rebuild the image"
fi

ID="" ID_LIKE=""
release=$sysroot/etc/os-release
[ -f "$release" ] || release=$sysroot/usr/lib/os-release
if [ -f "$release" ]; then
  # Only the two keys; the file is shell syntax but is not ours to run.
  ID=$(sed -n 's/^ID=//p' "$release" | tr -d '"'"'")
  ID_LIKE=$(sed -n 's/^ID_LIKE=//p' "$release" | tr -d '"'"'")
fi

family=""
for id in $ID $ID_LIKE; do
  case "$id" in
    debian|ubuntu) family=debian ;;
    alpine) family=alpine ;;
    fedora|rhel|centos|rocky|almalinux|amzn|ol) family=fedora ;;
    arch|archlinux) family=arch ;;
    opensuse|opensuse-leap|opensuse-tumbleweed|suse|sles) family=suse ;;
  esac
  [ -n "$family" ] && break
done
if [ -z "$family" ]; then
  fail "the image has no sshd and its distribution (ID='$ID' ID_LIKE='$ID_LIKE') is not one banger can install it on (Debian/Ubuntu, Alpine, Fedora/RHEL, Arch, openSUSE); install an SSH server (openssh) in the image"
fi

# Package scripts must not start services: under systemd a blocking start
# from inside this boot-time unit would wait on units ordered after it,
# and under banger's init, boot.sh starts sshd once everything is in
# place. Debian's invoke-rc.d and deb-systemd-invoke ask policy-rc.d.
policy=$sysroot/usr/sbin/policy-rc.d
added_policy=""
if [ "$family" = debian ] && [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 0755 "$policy" && added_policy=1
fi

echo "BANGER-FIRSTBOOT: installing an SSH server ($family)" > "$console" 2>/dev/null || true
say "no sshd in the image; installing one with the $family package manager"
status=0
case "$family" in
  debian)
    export DEBIAN_FRONTEND=noninteractive
    # A failing mirror is reported by the install that follows.
    apt-get update -q || say "apt-get update reported errors; trying the install anyway"
    apt-get install -y -q --no-install-recommends openssh-server || status=$?
    ;;
  alpine)
    apk add --no-cache openssh-server openssh-keygen || status=$?
    ;;
  fedora)
    if command -v dnf >/dev/null 2>&1; then
      dnf install -y openssh-server || status=$?
    elif command -v microdnf >/dev/null 2>&1; then
      microdnf install -y openssh-server || status=$?
    else
      yum install -y openssh-server || status=$?
    fi
    ;;
  arch)
    pacman -Sy --noconfirm openssh || status=$?
    ;;
  suse)
    zypper --non-interactive install openssh-server || status=$?
    ;;
esac
[ -n "$added_policy" ] && rm -f "$policy"
if [ "$status" -ne 0 ]; then
  fail "installing the SSH server with the $family package manager failed (exit $status); check the VM's network and package sources (banger vm logs shows the output)"
fi
if ! have_sshd; then
  fail "the $family package manager succeeded but no sshd binary is installed"
fi

# banger's drop-in (key-only root login) takes effect only through an
# Include; older or minimal sshd_config files lack one.
config=$sysroot/etc/ssh/sshd_config
if [ -f "$config" ] && ! grep -qi '^[[:space:]]*Include[[:space:]]*/etc/ssh/sshd_config\.d/' "$config"; then
  { echo "Include /etc/ssh/sshd_config.d/*.conf"; cat "$config"; } > "$config.banger-tmp" &&
    mv -f "$config.banger-tmp" "$config"
fi

mkdir -p "${marker%/*}" && : > "$marker"

# Under systemd the unit files arrived with the package: enable sshd and
# queue its start. --no-block: this unit is ordered before banger-hostkeys,
# which sshd waits for, so waiting here would deadlock; banger-ready is
# ordered after ssh.service and so waits for the queued start.
if [ -d "$sysroot/run/systemd/system" ]; then
  systemctl daemon-reload
  command -v ssh-keygen >/dev/null 2>&1 && ssh-keygen -A
  for unit in ssh.service sshd.service; do
    if systemctl cat "$unit" >/dev/null 2>&1; then
      systemctl enable "$unit" || true
      systemctl start --no-block "$unit" || fail "sshd was installed but $unit could not be started"
      break
    fi
  done
fi
say "SSH server installed"
exit 0
