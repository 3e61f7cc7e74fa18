#!/usr/bin/env bash
# The README's test command: installs what is needed, builds, and runs every test.
#  1. the sanitizer build (clang, ASan + UBSan, libFuzzer targets fuzzing for EC_FUZZ_SECONDS)
#     runs the whole suite: unit, fuzz and integration tests;
#  2. the g++ build (the optimisation level the main job's RelWithDebInfo build uses) must
#     compile warning-free and pass the unit tests too, so both compilers keep us honest.
# Tests that need something missing (root, network namespaces) skip and say why.
# Each stage prints its wall and CPU (user+sys) time, and a summary is printed at the end.
#
# CI has two cores and runs this from a clean checkout, so the choices below are about CPU
# time (measured numbers are in the commit messages that made them):
#  - Both builds link with lld: GNU ld took 3x as long to link an ASan test binary.
#    (cmake/EcHelpers.cmake also links the unit tests into one binary per area, and gives
#    clang test files a precompiled gtest.h.)
#  - The sanitizer build keeps only line tables (-gline-tables-only): ASan and UBSan reports
#    still name file:line for every frame; full -g only adds variable info, at compile cost.
#  - Both builds are unity builds (several .cc per compiler run: headers parsed once per batch;
#    -45% compile time), with batches of different sizes (12 and 32) so that a .cc missing an
#    #include is less often hidden by the file before it in both. (g++ at 32 instead of 16:
#    404 instead of 468 s of CPU for the unit tests and what they link.) A unity build fails when two
#    .cc files of one target define the same name in an anonymous namespace: rename one.
#    The main job's build (scripts/demo.sh, build/release) compiles each .cc on its own.
#  - The g++ build has its own directory, build/gcc (build/release stays the RelWithDebInfo
#    build scripts/demo.sh and bench/ use): RelWithDebInfo's -O2 -DNDEBUG, so the optimiser's
#    warnings are the ones the main job sees, but without -g (nobody debugs these binaries;
#    -25% compile time). Property tests run their full count of random runs here, a tenth
#    under the sanitizers (tests/unit/testing/run_budget.h). The unit test binaries are built
#    at -O1 (EC_TEST_CXX_FLAGS): gtest-heavy test files took twice the CPU at -O2 and were 40%
#    of this build; the code they test stays at -O2. The fuzz targets are not built here
#    (EC_FUZZ_REPLAY=OFF): the sanitizer pass compiles each and runs it on its corpus.
#  - ctest runs one process per gtest suite, not per case (cmake/EcGtestSuites.cmake); the
#    number of gtest cases that ran is printed after the suite.
#  - ASan's quarantine is 32 MB instead of 256 (see whole_suite).
#  - Fuzzers run EC_FUZZ_SECONDS=1 each (config_fuzzer twice that): a smoke test that replays
#    the corpus and explores a little (each fuzzer holds a core for its seconds: at 5 s the 25
#    of them took 70 s of the suite's 610 s of CPU; the suite is CPU-bound, so each second of
#    the 26 now is 13 s of wall time); bench/fuzz/run.sh fuzzes for minutes.
#  - The sanitizer build's executables are not position-independent (-no-pie): an ASan
#    binary of 40-130 MB then starts in 0.10 s of CPU instead of 0.15 (no relocations to
#    apply), and the suite starts thousands of them (daemons, ec_console, eccfg, test suites).
#  - The g++ build runs beside the sanitizer build and suite, at idle priority (SCHED_IDLE,
#    nice 19): the suite leaves a core idle for a fifth of its time (tests waiting on timers,
#    the last long tests alone), and the g++ build takes only those cycles, so the sanitizer
#    stages run about as fast as alone. It builds only the unit test
#    binaries and what they link or run (target ec_unit_tests): the daemons and benchmarks are
#    compiled by the sanitizer pass, and g++ has nothing of theirs to run.
#  - The suite runs at twice as many jobs as cores: the integration tests mostly wait on
#    sockets and timers, and a fuzz test runs for fixed seconds whatever CPU it gets (so the
#    fuzzers share the cores with the other tests: half the executions of a -j2 run, for a
#    suite a third shorter).
set -euo pipefail
self=$(readlink -f "$0")
cd "$(dirname "$0")/.."
jobs=$(nproc)

timings=()
summary() {
  echo "== timings (wall, CPU = user+sys)"
  printf '%s\n' "${timings[@]}"
  echo "total: $SECONDS s wall"
}
trap summary EXIT

# stage NAME CMD...: runs CMD and records how long it took.
stage() {
  local name=$1; shift
  echo "== $name ($(date +%T))"
  local TIMEFORMAT='%R %U %S' t wall user sys
  { t=$( { time "$@" >&3 2>&4; } 2>&1 ); } 3>&1 4>&2
  read -r wall user sys <<<"$t"
  timings+=("$(printf '%-24s %7.0f s wall %7.0f s CPU' "$name" "$wall" \
    "$(echo "$user + $sys" | bc)")")
  echo "-- $name: ${timings[-1]#"$name"}"
}

sanitizer_build() {
  CC=clang CXX=clang++ cmake -S . -B build/test -DCMAKE_BUILD_TYPE=Debug \
    -DEC_SANITIZE=ON -DEC_FUZZ=ON -DEC_FUZZ_SECONDS="${EC_FUZZ_SECONDS:-1}" \
    -DCMAKE_CXX_FLAGS_DEBUG=-gline-tables-only -DCMAKE_EXE_LINKER_FLAGS="-fuse-ld=lld -no-pie" \
    -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=12 >/dev/null
  cmake --build build/test -j"$jobs"
}

gcc_build() {
  CC=gcc CXX=g++ cmake -S . -B build/gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG" \
    -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=32 \
    -DEC_TEST_CXX_FLAGS=-O1 -DEC_FUZZ_REPLAY=OFF \
    -DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld >/dev/null
  cmake --build build/gcc -j"$jobs" --target ec_unit_tests
}

gcc_unit_tests() {  # prints the summary, or everything when a test fails
  cd build/gcc
  if ! ctest -L unit -LE fuzz -j"$jobs" --output-on-failure >unit-tests.log; then
    cat unit-tests.log
    return 1
  fi
  grep -E "tests passed|Total Test time" unit-tests.log
  gtest_cases Testing/Temporary/LastTest.log
}

whole_suite() {
  # quarantine_size_mb=32: ASan keeps freed memory in a quarantine (256 MB by default) to catch
  # use-after-free; a process that allocates fast (OpenSSL's PBKDF2 allocates in each of its
  # 600,000 iterations) touches fresh pages until it fills, which cost 1.3 s of system time per
  # password hash. 32 MB still holds the last many thousand frees.
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:quarantine_size_mb=32
  export UBSAN_OPTIONS=print_stacktrace=1
  cd build/test
  local rc=0
  ctest -j$((2 * jobs)) --output-on-failure --timeout 900 || rc=$?
  gtest_cases Testing/Temporary/LastTest.log
  return $rc
}

# gtest_cases LOG: how many gtest cases passed, were skipped and failed in a ctest log.
gtest_cases() {
  awk '/^\[  PASSED  \] [0-9]+ test/ {p += $4} /^\[  SKIPPED \] [0-9]+ test/ {s += $4}
       /^\[  FAILED  \] [0-9]+ test/ {f += $4}
       END {printf "gtest cases: %d passed, %d skipped, %d failed\n", p, s, f}' "$1"
}

# The g++ build runs as a second copy of this script (--gcc-build), in the background at idle
# priority, in a process group of its own so that it can be stopped as a group (set -m), but in
# our session: a new session (setsid) gets a scheduler autogroup of its own, which the kernel
# gives an equal share of the CPU whatever the priority inside it (measured: the g++ build
# took a whole core and the sanitizer build doubled in wall time). Its unit tests run after
# the sanitizer suite, at normal priority (a test starved of CPU could time out).
gcc_log=build/gcc-pass.log
gcc_pid=
start_gcc_build() {
  local prio=(nice -n 19)
  if chrt --idle 0 true 2>/dev/null; then prio=(chrt --idle 0 "${prio[@]}"); fi
  mkdir -p build
  set -m
  "${prio[@]}" bash "$self" --gcc-build >"$gcc_log" 2>&1 &
  gcc_pid=$!
  set +m
}
wait_gcc_build() {
  local rc=0
  wait "$gcc_pid" || rc=$?
  gcc_pid=
  cat "$gcc_log"
  return $rc
}
stop_gcc_build() {
  if [[ -n $gcc_pid ]]; then kill -- "-$gcc_pid" 2>/dev/null || true; fi
}

if [[ ${1:-} == --gcc-build ]]; then
  stage "g++ build" gcc_build
  exit 0
fi

stage "install-deps" bash scripts/install-deps.sh
trap 'stop_gcc_build; summary' EXIT
start_gcc_build
stage "sanitizer build" sanitizer_build
stage "whole suite, sanitizer" whole_suite
# Not a stage: `wait` must run in this shell, the g++ build's parent.
echo "== waiting for the g++ build ($(date +%T))"
wait_gcc_build
# The g++ build's own timing, taken in its process (its CPU overlaps the stages above).
while IFS=: read -r name rest; do
  timings+=("${name#-- }${rest}")
done < <(grep '^-- g++ build:' "$gcc_log")
stage "g++ unit tests" gcc_unit_tests
