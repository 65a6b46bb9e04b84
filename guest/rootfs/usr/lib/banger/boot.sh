#!/usr/lib/banger/busybox sh
# banger's boot sequence under its own init (see /usr/lib/banger/init):
# the mounts systemd would make, the network, the first-boot SSH server
# install, host keys, sshd, and the readiness marker. The image's tools
# come first on PATH; busybox applets fill the gaps (ip, hostname, ...).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/banger/bin

run() {
  "$@" || echo "banger-init: $* failed (exit $?)"
}

mkdir -p /dev/pts /dev/shm /run /tmp
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts 2>/dev/null
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
chmod 1777 /tmp
[ -s /etc/hostname ] && hostname -F /etc/hostname
if [ ! -e /etc/ld.so.cache ] && command -v ldconfig >/dev/null 2>&1; then
  run ldconfig
fi

run /usr/lib/banger/net-bootstrap.sh
# No sshd means no way in: stop here, the error line is on the console.
/usr/lib/banger/first-boot.sh || exit 1

command -v ssh-keygen >/dev/null 2>&1 && run ssh-keygen -A
mkdir -p /run/sshd
chmod 0755 /run/sshd
sshd=$(command -v sshd)
if [ -z "$sshd" ]; then
  echo "BANGER-FIRSTBOOT-ERROR: no sshd found after the first-boot step"
  exit 1
fi
# An absolute path: sshd re-executes itself for every connection.
run "$sshd"
/usr/lib/banger/ready.sh
