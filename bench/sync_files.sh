#!/usr/bin/env bash
# bench/sync_files.sh — files' bytes through sync: peak RSS of `relais sync`
# for a 100 MiB and a 1 GiB file (flat), throughput, bytes resent after a cut.
# See bench/sync_files.py and bench/README.md. Needs curl, /usr/bin/time and
# about 3 GB free in $TMPDIR (BENCH_TMP).
#   RELAIS=build/relais bench/sync_files.sh
#   BENCH_SYNC_SIZES="100 1024" BENCH_SYNC_CUT_MB=256 bench/sync_files.sh
# (also run by bench/run.sh, with its summary table)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec timeout --kill-after=10 2400 python3 "$here/sync_files.py"
