#!/bin/sh
# banger readiness marker: tells the host that sshd is up, which host keys
# it presents and whether the guest runs banger's agent. The host reads
# these lines from the console log and pins the keys:
#
#   BANGER-HOSTKEY <keytype> <base64>   (one per /etc/ssh/ssh_host_*_key.pub)
#   BANGER-AGENT                        (the image has /usr/lib/banger/banger-agent)
#   BANGER-READY <hostname>
#
# The org.banger.agent port belongs to the agent alone (one process may
# hold a virtio-serial port open), so nothing here writes to it.
#
# BANGER_SYSROOT prefixes /etc and /dev for running outside a VM.
set -u

sysroot=${BANGER_SYSROOT:-}

lines=""
for pub in "$sysroot"/etc/ssh/ssh_host_*_key.pub; do
  [ -f "$pub" ] || continue
  read -r keytype key _ < "$pub" || continue
  lines="${lines}BANGER-HOSTKEY $keytype $key
"
done
if [ -x "$sysroot/usr/lib/banger/banger-agent" ]; then
  lines="${lines}BANGER-AGENT
"
fi
name=$(cat "$sysroot/etc/hostname" 2>/dev/null || true)
[ -n "$name" ] || name=$(hostname)
lines="${lines}BANGER-READY $name
"

printf '%s' "$lines" > "$sysroot/dev/console" || true
exit 0
