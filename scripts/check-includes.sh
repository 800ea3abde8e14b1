#!/bin/sh
# Fails if a source file includes across the module arrows (docs/architecture.md):
#   core -> nothing but core; content -> core; sync -> content, core;
#   http -> core; box -> http, sync, content, core; hub -> http, sync, content, core.
# The build already refuses such includes (each module sees only its own include
# roots); this check also catches relative includes ("../hub/x.h") that would
# slip past it, and says which arrow was broken.
set -eu
cd "$(dirname "$0")/.."
allowed() {
  case "$1" in
    core) echo "core" ;;
    content) echo "core content" ;;
    sync) echo "core content sync" ;;
    http) echo "core http" ;;
    box) echo "core content sync http box" ;;
    hub) echo "core content sync http hub" ;;
  esac
}
status=0
for module in core content sync http box hub; do
  ok=$(allowed "$module")
  for f in $(git ls-files "$module/*.cc" "$module/*.h"); do
    if grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"\.\./' "$f" >/dev/null; then
      echo "$f: relative include (\"../…\"): include by module path instead" >&2
      status=1
    fi
    for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([a-z_]*\)\/.*/\1/p' "$f" | sort -u); do
      case " $ok " in
        *" $inc "*) ;;
        *) if [ -d "$inc" ] && [ "$inc" != "tests" ]; then
             echo "$f: $module/ may not include $inc/ (docs/architecture.md, \"Arrows\")" >&2
             status=1
           fi ;;
      esac
    done
  done
done
[ $status -eq 0 ] || echo "check-includes: fix the includes above" >&2
exit $status
