#!/bin/sh
# banger readiness marker: tells the host that sshd is up and which host
# keys it presents. The host reads these lines from the console log or the
# org.banger.agent virtio-serial port and pins the keys:
#
#   BANGER-HOSTKEY <keytype> <base64>   (one per /etc/ssh/ssh_host_*_key.pub)
#   BANGER-READY <hostname>
#
# BANGER_SYSROOT prefixes /etc, /sys and /dev for running outside a VM.
set -u

sysroot=${BANGER_SYSROOT:-}
port_name=org.banger.agent

lines=""
for pub in "$sysroot"/etc/ssh/ssh_host_*_key.pub; do
  [ -f "$pub" ] || continue
  read -r keytype key _ < "$pub" || continue
  lines="${lines}BANGER-HOSTKEY $keytype $key
"
done
name=$(cat "$sysroot/etc/hostname" 2>/dev/null || true)
[ -n "$name" ] || name=$(hostname)
lines="${lines}BANGER-READY $name
"

printf '%s' "$lines" > "$sysroot/dev/console" || true

# Without udev there is no /dev/virtio-ports/NAME link: find the port by
# its sysfs name and write to /dev/vportXpY. A port blocks writers until
# the host side connects, so the write gets a few seconds at most (or
# goes to the background): this script must finish, init waits for it.
for port in "$sysroot"/sys/class/virtio-ports/*; do
  [ -f "$port/name" ] || continue
  if [ "$(cat "$port/name")" = "$port_name" ]; then
    dev="$sysroot/dev/${port##*/}"
    if command -v timeout >/dev/null 2>&1; then
      printf '%s' "$lines" | timeout 3 sh -c 'cat > "$1"' sh "$dev" || true
    else
      (printf '%s' "$lines" > "$dev") 2>/dev/null &
    fi
  fi
done
exit 0
