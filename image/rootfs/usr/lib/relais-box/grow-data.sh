#!/bin/sh
# Grows the data partition (the last one) to the end of the card before /data
# is mounted, when there is room (the first boot, or a copy onto a bigger card);
# x-systemd.growfs in /etc/fstab then grows the file system. The partition
# table is written only when it changes.
set -eu
part=$(basename "$(readlink -f /dev/disk/by-label/relais-data)")
disk=$(lsblk -no PKNAME "/dev/$part")
num=$(cat "/sys/class/block/$part/partition")
end=$(( $(cat "/sys/class/block/$part/start") + $(cat "/sys/class/block/$part/size") ))
total=$(cat "/sys/class/block/$disk/size")
[ $(( total - end )) -gt 8192 ] || exit 0   # less than 4 MiB to gain
echo ", +" | sfdisk --no-reread --no-tell-kernel -q -N "$num" "/dev/$disk"
partx -u -n "$num" "/dev/$disk"
echo "data partition grown to the end of /dev/$disk"
