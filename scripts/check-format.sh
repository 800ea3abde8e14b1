#!/bin/sh
# Fails if a C++ source file is not formatted as .clang-format says.
# Fix with: clang-format -i $(git ls-files '*.cc' '*.h')
set -eu
cd "$(dirname "$0")/.."
files=$(git ls-files '*.cc' '*.h')
if ! clang-format --dry-run --Werror $files; then
  echo "check-format: run clang-format -i on the files above" >&2
  exit 1
fi
