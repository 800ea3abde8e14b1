#!/usr/bin/env bash
# bench/run.sh — runs the benchmarks of issue 2 and prints a summary table
# (target, measured, PASS/MISS). See bench/README.md.
#
#   bench/run.sh                      # all of them
#   bench/run.sh homework_list files  # some: homework_list files login_storm memory https sync_files ent_upload
#   RELAIS=build-bench/relais bench/run.sh
#
# Every benchmark starts its own server(s) on 127.0.0.1 in a fresh temporary
# folder and stops them when it ends. Each one runs under `timeout`; Ctrl-C
# stops the one running and its processes.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
export RELAIS="${RELAIS:-build/relais}"
case "$RELAIS" in /*) ;; *) RELAIS="$repo/$RELAIS" ;; esac
if [ ! -x "$RELAIS" ]; then
  echo "bench: no relais binary at $RELAIS; build one (see bench/README.md) or set RELAIS" >&2
  exit 2
fi
for tool in wrk nginx curl python3 taskset; do
  command -v "$tool" >/dev/null || { echo "bench: '$tool' is missing: scripts/install-deps.sh bench" >&2; exit 2; }
done
if [ "$(nproc)" -lt 2 ]; then
  echo "bench: needs 2 cores (server on core 0, load generator on core 1)" >&2
  exit 2
fi

all=(homework_list files login_storm memory https sync_files ent_upload)
declare -A limit=([homework_list]=300 [files]=400 [login_storm]=500 [memory]=900 [https]=300 [sync_files]=2400 [ent_upload]=900)
selected=("$@")
[ ${#selected[@]} -eq 0 ] && selected=("${all[@]}")

work="$(mktemp -d "${TMPDIR:-/tmp}/relais-bench-run-XXXXXX")"
export BENCH_RESULTS="$work/results.jsonl"
: >"$BENCH_RESULTS"
child=""
cleanup() {
  # The child runs in its own process group (setsid); its own handler stops its servers.
  if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
    kill -TERM -- "-$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

echo "== relais benchmarks — $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "binary:  $RELAIS ($("$RELAIS" --version 2>/dev/null || echo '?'))"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "tools:   $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), $(nginx -v 2>&1 | cut -d: -f2 | sed 's/^ //'), $(python3 --version)"
echo

failed=()
for name in "${selected[@]}"; do
  script="$here/$name.py"
  if [ ! -f "$script" ]; then
    echo "bench: unknown benchmark '$name' (known: ${all[*]})" >&2
    exit 2
  fi
  echo "== $name"
  start=$(date +%s)
  setsid timeout --kill-after=10 "${limit[$name]}" python3 "$script" &
  child=$!
  if ! wait "$child"; then
    failed+=("$name")
    echo "bench: $name failed or ran out of time (limit ${limit[$name]} s)" >&2
  fi
  child=""
  echo "   ($name took $(( $(date +%s) - start )) s)"
  echo
done

python3 "$here/summary.py" "$BENCH_RESULTS"
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed to run: ${failed[*]}"
  exit 1
fi
