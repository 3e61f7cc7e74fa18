#!/usr/bin/env bash
# User-space instructions ecmta executes per relayed message (all threads), counted by
# callgrind: smtp-source -> ecmta -> smtp-sink on loopback, as in run.sh. Unlike a rate, the
# count does not depend on what else the machine runs, so two binaries can be compared on a
# shared, noisy machine. Each figure is (I(220 messages) - I(20 messages)) / 200 over whole
# runs from start to stop, so start-up and shutdown cancel out. Kernel work is not counted.
#
#   bench/relay/instructions.sh [ECMTA ...]     (default build/release/mta/daemon/ecmta)
#
# Knobs: INSN_SIZES="4096 102400" INSN_SESSIONS=4. Needs valgrind, smtp-source, smtp-sink;
# runs ecmta as root (valgrind cannot write its output after the privilege drop). Bounded: a
# fixed message count per run, each run under a time limit. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib/counting_sink.sh
. bench/lib/relay_ecmta.sh
export PATH=$PATH:/usr/sbin
for tool in valgrind smtp-source smtp-sink; do
  command -v $tool >/dev/null || { echo "$tool missing (scripts/install-deps.sh --bench)" >&2; exit 1; }
done
binaries=("$@")
[ ${#binaries[@]} -gt 0 ] || binaries=(build/release/mta/daemon/ecmta)
sessions=${INSN_SESSIONS:-4}
listen_port=2771 sink_port=2777

work=$(mktemp -d /tmp/ecmta-insn.XXXXXX)
sink_pid= vg_pid=
cleanup() {
  [ -n "$vg_pid" ] && kill "$vg_pid" 2>/dev/null && wait "$vg_pid" 2>/dev/null || true
  [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null && wait "$sink_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
start_counting_sink "$work" "$sink_port"

# instructions BINARY SIZE MESSAGES -> callgrind's total for one whole run
instructions() {
  local binary=$1 size=$2 messages=$3 run goal deadline
  run=$(mktemp -d "$work/run.XXXXXX")
  mkdir -p "$run/out"
  write_relay_config "$run/etc/ecelerity.conf" "$run" "$listen_port" "$sink_port" "$sessions" \
    'Security { user = "" }'
  valgrind --tool=callgrind --vgdb=no --callgrind-out-file="$run/out/cg" "$binary" \
    --config "$run/etc/ecelerity.conf" --root "$run" --foreground --node-name bench \
    --log-level warn > "$run/ecmta.log" 2>&1 &
  vg_pid=$!
  for _ in $(seq 600); do (exec 3<>/dev/tcp/127.0.0.1/$listen_port) 2>/dev/null && break; sleep 0.1; done
  goal=$(( $(sink_count "$work") + messages ))
  timeout 300 smtp-source -s "$sessions" -l "$size" -m "$messages" -f sender@bench.test \
    -t rcpt@bench.test "127.0.0.1:$listen_port"
  deadline=$(( $(date +%s) + 300 ))
  while [ "$(sink_count "$work")" -lt "$goal" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "timeout waiting for the sink" >&2; exit 1; }
    sleep 0.05
  done
  kill "$vg_pid"; wait "$vg_pid" || true; vg_pid=
  awk '/^(summary|totals):/ { print $2; exit }' "$run/out/cg"
}

printf '%-50s %-8s %s\n' binary size instructions/message
for binary in "${binaries[@]}"; do
  for size in ${INSN_SIZES:-4096 102400}; do
    few=$(instructions "$binary" "$size" 20)
    many=$(instructions "$binary" "$size" 220)
    printf '%-50s %-8s %s\n' "$binary" "$size" $(( (many - few) / 200 ))
  done
done
