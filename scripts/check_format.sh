#!/usr/bin/env bash
# Fails when a C++ file differs from what clang-format (.clang-format) makes
# of it: every tracked file, so that a change can only land formatted.
# To format: git ls-files '*.cpp' '*.h' | xargs clang-format -i
set -euo pipefail
cd "$(dirname "$0")/.."
if ! git ls-files '*.cpp' '*.h' | xargs clang-format --dry-run --Werror 2>/tmp/ember-format.$$; then
  head -40 /tmp/ember-format.$$ >&2
  echo "check_format: these files need clang-format -i (above)" >&2
  rm -f /tmp/ember-format.$$
  exit 1
fi
rm -f /tmp/ember-format.$$
