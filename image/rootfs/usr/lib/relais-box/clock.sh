#!/bin/sh
# The box has no battery-backed clock and often no network: the last known
# time is the modification time of /data/system/clock.
#   clock.sh restore   at boot: move the clock forward to the saved time
#   clock.sh save      every few minutes, when the clock is set, and at shutdown
set -eu
f=/data/system/clock
case "$1" in
  restore)
    [ -f "$f" ] || exit 0
    saved=$(stat -c %Y "$f"); now=$(date +%s)
    if [ "$saved" -gt "$now" ]; then date -s "@$saved" >/dev/null; echo "clock restored to $(date -u +%FT%TZ)"; fi ;;
  save)
    # fsync: the saved time must survive a power cut right after the clock was set.
    mkdir -p "${f%/*}"; touch "$f"; sync "$f" ;;
  *) echo "usage: $0 restore|save" >&2; exit 2 ;;
esac
