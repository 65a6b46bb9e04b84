#!/bin/sh
# banger network bootstrap: configures the VM's network from the kernel
# command line, because minimal images have no udev-driven network manager.
#
#   banger.ip=ADDR/PREFIX  banger.gw=IP  banger.dns=IP  banger.hostname=NAME
#
# Without banger.ip it does nothing (the image may bring its own network
# setup). Usage: net-bootstrap.sh [CMDLINE_FILE]; BANGER_SYSROOT prefixes
# /etc and /sys so the logic can be exercised outside a VM.
set -eu

cmdline_file=${1:-/proc/cmdline}
sysroot=${BANGER_SYSROOT:-}

ip_addr="" gw="" dns="" name=""
for word in $(cat "$cmdline_file"); do
  case "$word" in
    banger.ip=*) ip_addr=${word#banger.ip=} ;;
    banger.gw=*) gw=${word#banger.gw=} ;;
    banger.dns=*) dns=${word#banger.dns=} ;;
    banger.hostname=*) name=${word#banger.hostname=} ;;
  esac
done

if [ -z "$ip_addr" ]; then
  exit 0
fi
case "$name" in
  *[!A-Za-z0-9.-]*)
    echo "banger-net: ignoring invalid hostname '$name'" >&2
    name="" ;;
esac

# The first NIC backed by a device (virtio-net); any non-loopback one
# otherwise. Names sort, so the choice is stable.
nic=""
for dir in "$sysroot"/sys/class/net/*; do
  [ -e "$dir" ] || continue
  dev=${dir##*/}
  [ "$dev" = lo ] && continue
  if [ -e "$dir/device" ]; then
    nic=$dev
    break
  fi
  [ -n "$nic" ] || nic=$dev
done
if [ -z "$nic" ]; then
  echo "banger-net: no network interface found" >&2
  exit 1
fi

ip link set dev lo up
ip link set dev "$nic" up
# replace, not add: the unit may run again after a restart.
ip addr replace "$ip_addr" dev "$nic"
if [ -n "$gw" ]; then
  ip route replace default via "$gw" dev "$nic"
fi

if [ -n "$dns" ]; then
  resolv="$sysroot/etc/resolv.conf"
  # Replace a dangling resolver symlink (systemd-resolved absent) with a file.
  if [ -L "$resolv" ]; then
    rm -f "$resolv"
  fi
  printf 'nameserver %s\nsearch vm\n' "$dns" > "$resolv.banger-tmp"
  mv -f "$resolv.banger-tmp" "$resolv"
fi

if [ -n "$name" ]; then
  printf '%s\n' "$name" > "$sysroot/etc/hostname"
  hostname "$name"
  hosts="$sysroot/etc/hosts"
  if [ -f "$hosts" ] && ! grep -q "^127\.0\.1\.1[[:space:]]" "$hosts"; then
    printf '127.0.1.1\t%s\n' "$name" >> "$hosts"
  elif [ -f "$hosts" ]; then
    sed -i "s/^127\.0\.1\.1[[:space:]].*/127.0.1.1\t$name/" "$hosts"
  fi
fi
echo "banger-net: $nic $ip_addr${gw:+ via $gw}"
