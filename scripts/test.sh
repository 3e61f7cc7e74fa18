#!/usr/bin/env bash
# The README's test command: installs what is needed, builds, and runs every test.
#  1. the sanitizer build (clang, ASan + UBSan, libFuzzer targets fuzzing for EC_FUZZ_SECONDS,
#     10 s each here: a smoke run on top of the corpus replay; bench/fuzz/run.sh fuzzes for long)
#     runs the whole suite: unit, fuzz and integration tests;
#  2. the release build (g++, what the main job runs) must compile warning-free and pass the
#     unit tests too, so both compilers keep us honest.
# Tests that need something missing (root, network namespaces) skip and say why.
# Each stage prints its wall and CPU (user+sys) time, and a summary is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

timings=()
summary() {
  echo "== timings (wall, CPU = user+sys)"
  printf '%s\n' "${timings[@]}"
}
trap summary EXIT

# stage NAME CMD...: runs CMD and records how long it took.
stage() {
  local name=$1; shift
  echo "== $name ($(date +%T))"
  local TIMEFORMAT='%R %U %S' t wall user sys
  { t=$( { time "$@" >&3 2>&4; } 2>&1 ); } 3>&1 4>&2
  read -r wall user sys <<<"$t"
  timings+=("$(printf '%-28s %7.0f s wall %7.0f s CPU' "$name" "$wall" \
    "$(echo "$user + $sys" | bc)")")
  echo "-- $name: ${timings[-1]#"$name"}"
}

stage "install-deps" bash scripts/install-deps.sh

stage "sanitizer configure" env CC=clang CXX=clang++ cmake -S . -B build/test -DEC_SANITIZE=ON \
  -DEC_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug -DEC_FUZZ_SECONDS="${EC_FUZZ_SECONDS:-10}" >/dev/null
stage "sanitizer build" cmake --build build/test -j"$jobs"

release_unit_tests() {
  cd build/release && ctest -L unit -LE fuzz -j"$jobs" --output-on-failure | tail -4
}
stage "release configure" cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
stage "release build" cmake --build build/release -j"$jobs"
stage "release unit tests" release_unit_tests

whole_suite() {
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1
  cd build/test
  ctest -j"$jobs" --output-on-failure --timeout 900
}
stage "whole suite, sanitizer" whole_suite
