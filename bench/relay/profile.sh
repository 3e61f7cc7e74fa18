#!/usr/bin/env bash
# Where ecmta's CPU and system calls go per relayed message: smtp-source -> ecmta -> smtp-sink on
# loopback (the relay bench's setup, without Postfix), with
#   - ecmta's CPU time (user+sys from /proc, all threads) per message, by thread, and beside it
#     smtp-source's and smtp-sink's (and how much of a core each used: the limit of the run),
#   - perf record of ecmta (call graphs), reported by symbol and by thread,
#   - strace -c -f of ecmta: system calls per message, by name.
# perf and strace are separate runs of the same load, so the tracing of one does not slow the
# other's figures. Bounded: a fixed message count, each run under a time limit. Loopback only.
#
#   bench/relay/profile.sh [BUILD_DIR]
#
# Knobs (environment): PROFILE_SESSIONS=20 PROFILE_SIZE=4096 PROFILE_MESSAGES=3000
#   PROFILE_PLAIN_RUNS=1 (runs without any tracer, for CPU per message) PROFILE_PERF=0 and
#   PROFILE_STRACE=0 (together: only the plain runs)
#   PROFILE_OUT=DIR (kept: perf.data, perf-symbols.txt, perf-threads.txt, strace.txt; default a
#   scratch directory that is removed) PROFILE_STRACE=0 (skip the strace run)
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib/relay_ecmta.sh
. bench/lib/counting_sink.sh
build=${1:-build/release}
ecmta=$build/mta/daemon/ecmta
[ -x "$ecmta" ] || { echo "no $ecmta: build first" >&2; exit 1; }
export PATH=$PATH:/usr/sbin
for tool in smtp-source smtp-sink perf strace; do
  command -v $tool >/dev/null || { echo "$tool missing (scripts/install-deps.sh --bench)" >&2; exit 1; }
done
sessions=${PROFILE_SESSIONS:-20} size=${PROFILE_SIZE:-4096} messages=${PROFILE_MESSAGES:-3000}
run_limit=300

work=$(mktemp -d /tmp/ecmta-profile.XXXXXX)
chmod 755 "$work"  # ecmta drops root and must reach its root below
out=${PROFILE_OUT:-$work/out}
mkdir -p "$out"
ecmta_pid= sink_pid= tracer_pid=
cleanup() {
  [ -n "$tracer_pid" ] && kill -INT "$tracer_pid" 2>/dev/null && wait "$tracer_pid" 2>/dev/null || true
  [ -n "$ecmta_pid" ] && kill "$ecmta_pid" 2>/dev/null && wait "$ecmta_pid" 2>/dev/null || true
  [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null && wait "$sink_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

ecmta_port=2745 sink_port=2747
mkdir -p "$work/ecmta/etc"
start_counting_sink "$work" "$sink_port"
start_relay_ecmta "$ecmta" "$work" "$ecmta_port" "$sink_port"
up() { for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.1; done
  echo "nothing listens on port $1:" >&2; cat "$work/ecmta.log" >&2; exit 1; }
up $ecmta_port; up $sink_port

# load MESSAGES: smtp-source into ecmta, then wait (bounded) until the sink holds them all.
load() {
  local n=$1 deadline goal
  goal=$(( $(sink_count "$work") + n ))
  timeout $run_limit smtp-source -s "$sessions" -l "$size" -m "$n" \
    -f sender@bench.test -t rcpt@bench.test "127.0.0.1:$ecmta_port" >/dev/null
  deadline=$(( $(date +%s) + run_limit ))
  while [ "$(sink_count "$work")" -lt "$goal" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "timeout waiting for the sink" >&2; exit 1; }
    sleep 0.02
  done
}
# CPU ticks (user+sys, every thread) of ecmta so far.
ticks() { awk '{ print $14 + $15 }' "/proc/$ecmta_pid/stat"; }

load 200  # warm-up: connections, page cache, first segment
echo "load: $(uptime)"
echo "case: $sessions session(s), $size bytes, $messages messages"

hz=$(getconf CLK_TCK)
# cpu_per_message T0 T1 S0 S1 -> "N us; M msg/s"
cpu_per_message() {
  echo "$(echo "($2 - $1) * 1000000 / $hz / $messages" | bc) us;" \
    "$(echo "$messages / ($4 - $3)" | bc) msg/s"
}
# "TID TICKS" for every thread of ecmta; smtp-sink's ticks; the shell's children's CPU seconds
# (smtp-source, once waited for; from `times`).
thread_ticks() { for t in /proc/"$ecmta_pid"/task/*; do echo "${t##*/} $(awk '{ print $14 + $15 }' "$t/stat")"; done; }
sink_ticks() { awk '{ print $14 + $15 }' "/proc/$sink_pid/stat"; }
# `times` must run in this shell, not in a $(...) subshell (whose children are its own).
children_seconds() { tail -1 "$1" | awk '{ split($1, u, /[ms]/); split($2, s, /[ms]/);
  print u[1] * 60 + u[2] + s[1] * 60 + s[2] }'; }
for ((i = 1; i <= ${PROFILE_PLAIN_RUNS:-1}; i++)); do
  thread_ticks > "$work/threads.0"
  times > "$work/times.0"
  k0=$(sink_ticks) c0=$(children_seconds "$work/times.0")
  t0=$(ticks) s0=$(date +%s.%N)
  load "$messages"
  t1=$(ticks) s1=$(date +%s.%N)
  times > "$work/times.1"
  k1=$(sink_ticks) c1=$(children_seconds "$work/times.1")
  thread_ticks > "$work/threads.1"
  echo "ecmta CPU per message (user+sys, all threads, no tracer):" \
    "$(cpu_per_message "$t0" "$t1" "$s0" "$s1")"
  # Per thread (busiest first), and the load generators: a process near 1.00 of a core is the
  # limit of the run.
  wall=$(echo "$s1 - $s0" | bc)
  join "$work/threads.0" "$work/threads.1" | awk -v hz="$hz" -v n="$messages" -v wall="$wall" \
    '$3 > $2 { printf "  ecmta thread %-8s %7.1f us/message  %4.2f of a core\n", $1,
      ($3 - $2) * 1e6 / hz / n, ($3 - $2) / hz / wall }' | sort -k4 -gr
  awk -v cs="$(echo "$c1 - $c0" | bc)" -v k="$(( k1 - k0 ))" -v hz="$hz" \
    -v n="$messages" -v wall="$wall" 'BEGIN {
      printf "  smtp-source         %7.1f us/message  %4.2f of a core\n", cs * 1e6 / n, cs / wall
      printf "  smtp-sink           %7.1f us/message  %4.2f of a core\n", k * 1e6 / hz / n, k / hz / wall }'
done
[ "${PROFILE_PERF:-1}" = 0 ] && [ "${PROFILE_STRACE:-1}" = 0 ] && exit 0

t0=$(ticks) s0=$(date +%s.%N)
perf record -F 999 -g -p "$ecmta_pid" -o "$out/perf.data" >/dev/null 2>&1 &
tracer_pid=$!
load "$messages"
kill -INT "$tracer_pid"; wait "$tracer_pid" 2>/dev/null || true; tracer_pid=
t1=$(ticks) s1=$(date +%s.%N)
echo "ecmta CPU per message (under perf): $(cpu_per_message "$t0" "$t1" "$s0" "$s1")"
# report SORT [perf report options...] -> its percentage lines
report() { perf report -i "$out/perf.data" --stdio -g none --percent-limit 0.5 "$@" 2>/dev/null |
  grep -E '^ +[0-9]' || true; }
report --no-children --sort pid > "$out/perf-threads.txt"
report --no-children --sort dso,sym | head -40 > "$out/perf-symbols.txt"
report --children --sort sym | head -60 > "$out/perf-children.txt"
report --no-children --sort dso > "$out/perf-dsos.txt"
echo "--- perf: self time by thread"; cat "$out/perf-threads.txt"
echo "--- perf: self time by object"; cat "$out/perf-dsos.txt"
echo "--- perf: self time by symbol (top 40)"; cat "$out/perf-symbols.txt"
echo "--- perf: time including callees (top 60)"; cat "$out/perf-children.txt"

if [ "${PROFILE_STRACE:-1}" != 0 ]; then
  t0=$(ticks)
  strace -c -f -q -p "$ecmta_pid" -o "$out/strace.txt" &
  tracer_pid=$!
  sleep 0.5  # attach to every thread
  load "$messages"
  kill -INT "$tracer_pid"; wait "$tracer_pid" 2>/dev/null || true; tracer_pid=
  echo "--- strace -c -f: system calls per message (calls / $messages)"
  awk -v n="$messages" '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" {
      name = $NF; calls = $4; printf "%-20s %8.2f\n", name, calls / n; total += calls }
    END { printf "%-20s %8.2f\n", "total", total / n }' "$out/strace.txt" | sort -k2 -gr
fi
