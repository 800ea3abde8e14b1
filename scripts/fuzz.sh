#!/bin/sh
# Builds every libFuzzer target (relais_*_fuzz) with clang and runs each for
# SECONDS (default 30) over a scratch copy of its committed seed corpus
# (tests/fuzz/corpus/<name>/ for relais_<name>_fuzz; the committed one is never
# grown). Fails if any target crashes, leaks, hits undefined behaviour or
# breaks its oracle; prints exec/s per target. docs/fuzzing.md.
#   scripts/fuzz.sh [SECONDS]       (needs: scripts/install-deps.sh fuzz)
set -eu
cd "$(dirname "$0")/.."
seconds="${1:-30}"
build="${FUZZ_BUILD:-build-fuzz}"
jobs="${JOBS:-$(nproc)}"

CC=clang CXX=clang++ cmake -S . -B "$build" -DRELAIS_FUZZ=ON -DRELAIS_BUILD_HUB=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
targets=$(cmake --build "$build" --target help | grep -o 'relais_[a-z0-9_]*_fuzz' | sort -u)
[ -n "$targets" ] || { echo "fuzz: no relais_*_fuzz target" >&2; exit 1; }
# shellcheck disable=SC2086
cmake --build "$build" -j "$jobs" --target $targets

# UBSan only reports by default: make every finding fatal, with a stack.
export ASAN_OPTIONS="${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"
failed=""
summary=""
for t in $targets; do
  name=${t#relais_}
  name=${name%_fuzz}
  corpus="$scratch/$name"
  mkdir -p "$corpus"
  if [ -d "tests/fuzz/corpus/$name" ]; then
    cp tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null || true
  else
    echo "fuzz: $t has no seed corpus (tests/fuzz/corpus/$name)" >&2
  fi
  log="$build/fuzz-$name.log"
  echo "fuzz: $t for ${seconds}s ($(ls "$corpus" | wc -l) seeds)"
  if "$build/$t" -max_total_time="$seconds" -timeout=25 -print_final_stats=1 \
       -artifact_prefix="$artifacts/$name-" "$corpus" >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed="$failed $t"
    grep -E 'ERROR|runtime error|fuzz oracle|Test unit written' "$log" | head -5 >&2 || true
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  execs=$(grep -o 'exec/s: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  summary="$summary$(printf '%-28s %-7s %10s exec/s %10s runs  cov %s' "$t" "$status" "${execs:-?}" "${runs:-?}" "${cov:-?}")
"
done
printf '\n%s' "$summary"
if [ -n "$failed" ]; then
  echo "fuzz: FAILED:$failed (inputs in $artifacts, logs in $build/fuzz-*.log)" >&2
  exit 1
fi
echo "fuzz: all targets ran ${seconds}s without a finding"
