#!/usr/bin/env bash
# The README's test command: installs what is needed, builds, and runs every test.
#  1. the sanitizer build (clang, ASan + UBSan, libFuzzer targets fuzzing for EC_FUZZ_SECONDS)
#     runs the whole suite: unit, fuzz and integration tests;
#  2. the release build (g++, what the main job runs) must compile warning-free and pass the
#     unit tests too, so both compilers keep us honest.
# Tests that need something missing (root, network namespaces) skip and say why.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

bash scripts/install-deps.sh

echo "== sanitizer build (clang, ASan+UBSan, libFuzzer)"
CC=clang CXX=clang++ cmake -S . -B build/test -DEC_SANITIZE=ON -DEC_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=Debug -DEC_FUZZ_SECONDS="${EC_FUZZ_SECONDS:-30}" >/dev/null
cmake --build build/test -j"$jobs"

echo "== release build (g++)"
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$jobs"
(cd build/release && ctest -L unit -LE fuzz -j"$jobs" --output-on-failure | tail -4)

echo "== whole suite, sanitizer build"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1
cd build/test
ctest -j"$jobs" --output-on-failure --timeout 900
