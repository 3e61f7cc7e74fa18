#!/bin/sh
# docs/config-reference.md must be what the schema generates, so the two cannot drift apart.
# Usage: reference_drift.sh <ec_conf binary> <docs/config-reference.md>
set -u
out=$(mktemp "${TMPDIR:-/tmp}/ec-refdrift.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT
"$1" options --markdown >"$out" || { echo "ec_conf options --markdown failed"; exit 1; }
if ! diff -u "$2" "$out"; then
  echo "docs/config-reference.md differs from the schema (common/config/options/)." >&2
  echo "Regenerate it: build/release/common/tools/ec_conf options --markdown >" \
       "docs/config-reference.md" >&2
  exit 1
fi
