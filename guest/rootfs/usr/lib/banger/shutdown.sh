#!/usr/lib/banger/busybox sh
# banger's shutdown under its own init: busybox init runs this on power
# off, then signals every process and powers off; writing everything out
# and remounting read-only first keeps the disks clean.
export PATH=/usr/lib/banger/bin:/usr/sbin:/usr/bin:/sbin:/bin
echo "banger-init: shutting down"
sync
umount -a -r 2>/dev/null
sync
