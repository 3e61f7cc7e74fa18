#!/usr/bin/env bash
# Long fuzzing runs. scripts/test.sh runs every libFuzzer target for only EC_FUZZ_SECONDS (1 s
# in CI, enough to replay the corpus and catch shallow regressions); this runs the same targets
# for longer: the same build flags as the suite (clang, ASan+UBSan, Debug), the same ctest tests
# (label fuzz, tests/fuzz/run_fuzzer.sh on a scratch copy of each committed corpus), just with a
# larger EC_FUZZ_SECONDS. config_fuzzer gets twice the time, as in the suite. A crash, leak or
# timeout fails its test; the reproducer is kept under BUILD_DIR/tests/fuzz/*/fuzz-artifacts/.
# Usage: bench/fuzz/run.sh [SECONDS] [BUILD_DIR] [REGEX]
#   SECONDS    per fuzzer (default 600)
#   BUILD_DIR  default build/fuzz
#   REGEX      only the fuzz tests whose ctest name matches (e.g. smtp), default all
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-600}
build=${2:-build/fuzz}
regex=${3:-.}
jobs=$(nproc)

CC=clang CXX=clang++ cmake -S . -B "$build" -DEC_SANITIZE=ON -DEC_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=Debug -DEC_FUZZ_SECONDS="$seconds" >/dev/null
cmake --build "$build" -j"$jobs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1
cd "$build"
ctest -L fuzz -R "$regex" -j"$jobs" --output-on-failure
