#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time on a scratch copy of its committed corpus, so the
# run never rewrites the repository. A crash, leak, timeout or OOM fails the test and the
# reproducer is kept under the build directory.
set -euo pipefail
fuzzer=$1 corpus=$2 seconds=$3
name=$(basename "$fuzzer")
work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
cp -r "$corpus"/. "$work/corpus/"
artifacts="$(dirname "$fuzzer")/fuzz-artifacts/$name/"
mkdir -p "$artifacts"
"$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
  -artifact_prefix="$artifacts" -print_final_stats=1 "$work/corpus" 2>&1 | tail -25
