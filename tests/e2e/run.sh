#!/bin/sh
# Runs the end-to-end tests (run.mjs) for ctest: installs the npm packages
# pinned in package-lock.json when they are missing or stale, then drives
# Debian's Chromium against the relais binary given as $1.
# Exits 77 (ctest: skipped) when Chromium or Node.js is missing, unless
# RELAIS_E2E_REQUIRED=1 (CI), where that is a failure.
set -eu
if [ $# -gt 0 ]; then
  binary=$(realpath "$1")
  shift
  set -- "$binary" "$@"
fi
cd "$(dirname "$0")"
missing=""
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || missing="$missing chromium"
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
  echo "end-to-end tests need:$missing (scripts/install-deps.sh e2e)"
  [ "${RELAIS_E2E_REQUIRED:-0}" = 1 ] && exit 1
  exit 77
fi
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.relais-lock; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.relais-lock
fi
exec node run.mjs "$@"
