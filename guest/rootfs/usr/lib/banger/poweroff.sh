#!/bin/sh
# banger asks a guest to power off through this (over SSH), whatever init
# it runs: systemd, or banger's busybox init (which powers off on SIGUSR2,
# what `busybox poweroff` sends to PID 1).
if [ -d /run/systemd/system ]; then
  exec systemctl poweroff --no-block
fi
if [ -x /usr/lib/banger/busybox ]; then
  exec /usr/lib/banger/busybox poweroff
fi
exec poweroff
