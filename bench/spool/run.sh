#!/usr/bin/env bash
# Compares the spool's group commit with fsync-per-message and Postfix-style file-per-message
# writing, 20 sessions of 4 KB messages, on the file system holding SPOOL_DIR (default: a
# scratch directory under /var/tmp, i.e. the real disk, not tmpfs).
# Usage: bench/spool/run.sh BUILD_DIR [SESSIONS] [MESSAGES]
set -euo pipefail
build=${1:?build dir}
sessions=${2:-20}
messages=${3:-4000}
bench="$build/tests/unit/mta/spool/spool_bench"
base=$(mktemp -d "${SPOOL_DIR:-/var/tmp}/spool_bench.XXXXXX")
trap 'rm -rf "$base"' EXIT
for mode in group single files; do
  "$bench" "$base/$mode" "$mode" "$sessions" "$messages" 4096
done
