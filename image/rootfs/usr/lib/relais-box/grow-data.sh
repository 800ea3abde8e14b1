#!/bin/sh
# Grows the data partition (the last one) and its file system (online) to the
# end of the card, when there is room (the first boot, or a copy onto a bigger
# card). The partition table is written only when it changes. It runs after
# /data is mounted and nothing depends on the partition's device unit, so the
# udev events of the resize cannot stop anything.
set -eu
part=$(basename "$(readlink -f /dev/disk/by-label/relais-data)")
disk=$(lsblk -no PKNAME "/dev/$part")
num=$(cat "/sys/class/block/$part/partition")
end=$(( $(cat "/sys/class/block/$part/start") + $(cat "/sys/class/block/$part/size") ))
total=$(cat "/sys/class/block/$disk/size")
[ $(( total - end )) -gt 8192 ] || exit 0   # less than 4 MiB to gain
echo ", +" | sfdisk --no-reread --no-tell-kernel -q -N "$num" "/dev/$disk"
partx -u -n "$num" "/dev/$disk"
resize2fs "/dev/$part"
echo "data partition grown to the end of /dev/$disk"
