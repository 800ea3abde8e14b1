#!/bin/sh
# Grows the data partition (the last one) to the end of the card, once, before
# /data is mounted; x-systemd.growfs in /etc/fstab then grows the file system.
set -eu
part=$(readlink -f /dev/disk/by-label/relais-data)
disk=/dev/$(lsblk -no PKNAME "$part")
num=$(cat "/sys/class/block/$(basename "$part")/partition")
# ", +" keeps the start and takes all the free space after it; nothing to do → no change.
if echo ", +" | sfdisk --no-reread --no-tell-kernel -q -N "$num" "$disk" 2>&1; then
  partx -u -n "$num" "$disk"
fi
