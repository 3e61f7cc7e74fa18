#!/usr/bin/env bash
# End-to-end relay benchmark: smtp-source -> MTA -> smtp-sink, for ecmta and for Postfix on the
# same machine in the same run, with the same durability (each fsyncs a message before its 250
# and records its delivery before forgetting it; Postfix: cleanup's fsync and queue-file
# removal, ecmta: group-committed spool records). Measures messages/s delivered end to end,
# from smtp-source's first connection until the sink holds every message, for 1 and 20
# sessions with 4 KB and 100 KB messages. Beside them the no-MTA ceiling: smtp-source straight
# into the same smtp-sink with the same options, what this machine allows for two SMTP hops'
# worth of clients and sinks without any MTA. Each repetition measures ceiling, ecmta and Postfix
# back to back, so the ratios compare figures taken under the same load; the summary gives the
# median and the range of each ratio over the repetitions, and the load (uptime) before and after.
#
#   bench/relay/run.sh [BUILD_DIR]     (default build/release; run as root for Postfix)
#
# Knobs (environment):
#   RELAY_REPS=3                     repetitions of every case
#   RELAY_CASES="20:4096:4000 ..."   cases as SESSIONS:SIZE:MESSAGES (default: the four below)
#   RELAY_QUICK=1                    a short smoke run of the script itself (figures not meaningful)
#
# Bounded: a fixed message count per run, each run under a time limit. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib/relay_ecmta.sh
. bench/lib/counting_sink.sh
build=${1:-build/release}
ecmta=$build/mta/daemon/ecmta
[ -x "$ecmta" ] || { echo "no $ecmta: build first (cmake --build $build --target ecmta)" >&2; exit 1; }
for tool in smtp-source smtp-sink postfix; do
  command -v $tool >/dev/null || [ -x /usr/sbin/$tool ] ||
    { echo "$tool missing (postfix package)" >&2; exit 1; }
done
export PATH=$PATH:/usr/sbin

work=$(mktemp -d /tmp/ecmta-relay.XXXXXX)
chmod 755 "$work"
ecmta_pid= sink_pid=
cleanup() {
  [ -n "$ecmta_pid" ] && kill "$ecmta_pid" 2>/dev/null && wait "$ecmta_pid" 2>/dev/null || true
  [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null && wait "$sink_pid" 2>/dev/null || true
  bash bench/lib/postfix_instance.sh stop "$work/postfix" || true
  rm -rf "$work"
}
trap cleanup EXIT

ecmta_port=2735 postfix_port=2736 sink_port=2737
cases=(${RELAY_CASES:-20:4096:4000 1:4096:1000 20:102400:1000 1:102400:300})
reps=${RELAY_REPS:-3}
[ -n "${RELAY_QUICK:-}" ] && { cases=(1:4096:50 20:4096:200); reps=1; }
run_limit=300

start_counting_sink "$work" "$sink_port"

mkdir -p "$work/ecmta/etc"
start_relay_ecmta "$ecmta" "$work" "$ecmta_port" "$sink_port"
bash bench/lib/postfix_instance.sh start "$work/postfix" "127.0.0.1:$postfix_port" relay \
  "[127.0.0.1]:$sink_port"
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$ecmta_port) 2>/dev/null && break; sleep 0.1; done
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$sink_port) 2>/dev/null && break; sleep 0.1; done

# rate SESSIONS SIZE MESSAGES PORT -> messages/s delivered end to end (or "timeout")
rate() {
  local sessions=$1 size=$2 messages=$3 port=$4 start end deadline goal
  goal=$(( $(sink_count "$work") + messages ))
  start=$(date +%s.%N)
  timeout $run_limit smtp-source -s "$sessions" -l "$size" -m "$messages" \
    -f sender@bench.test -t rcpt@bench.test "127.0.0.1:$port" >/dev/null
  deadline=$(( $(date +%s) + run_limit ))
  while [ "$(sink_count "$work")" -lt "$goal" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo timeout; return; }
    sleep 0.02
  done
  end=$(date +%s.%N)
  echo "$messages / ($end - $start)" | bc -l
}

# summary VALUES... -> "median [min-max]" (2 decimals), or "-" when a value is missing
summary() {
  printf '%s\n' "$@" | sort -g | awk '
    /^-$|timeout/ { bad = 1 } { v[NR] = $1 }
    END {
      if (bad || NR == 0) { print "-"; exit }
      m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      printf "%.2f [%.2f-%.2f]\n", m, v[1], v[NR]
    }'
}
ratio() { case "$1$2" in *timeout*) echo -;; *) echo "$1 / $2" | bc -l;; esac; }

echo "load before: $(uptime)"
printf '%-4s %-9s %-7s %-9s %12s %12s %14s %10s %10s\n' rep sessions size messages \
  ceiling_msg/s ecmta_msg/s postfix_msg/s e/ceiling e/postfix
declare -A ceil_r post_r ecm post cei
for ((rep = 1; rep <= reps; rep++)); do
  for c in "${cases[@]}"; do
    IFS=: read -r s z m <<<"$c"
    # warm-up, then the measured runs, back to back
    rate "$s" "$z" 100 $ecmta_port >/dev/null; rate "$s" "$z" 100 $postfix_port >/dev/null
    k=$(rate "$s" "$z" "$m" $sink_port)
    e=$(rate "$s" "$z" "$m" $ecmta_port)
    p=$(rate "$s" "$z" "$m" $postfix_port)
    rc=$(ratio "$e" "$k") rp=$(ratio "$e" "$p")
    ceil_r[$c]+="$rc " post_r[$c]+="$rp " ecm[$c]+="$e " post[$c]+="$p " cei[$c]+="$k "
    printf '%-4s %-9s %-7s %-9s %12.0f %12.0f %14.0f %10.2f %10.2f\n' "$rep" "$s" "$z" "$m" \
      "${k/timeout/0}" "${e/timeout/0}" "${p/timeout/0}" "${rc/-/0}" "${rp/-/0}"
  done
done
echo "load after: $(uptime)"
echo
echo "summary over $reps repetition(s): median [min-max]"
printf '%-9s %-7s %-26s %-26s %-26s %-22s %-22s\n' sessions size ceiling_msg/s ecmta_msg/s \
  postfix_msg/s ecmta/ceiling ecmta/postfix
for c in "${cases[@]}"; do
  IFS=: read -r s z m <<<"$c"
  printf '%-9s %-7s %-26s %-26s %-26s %-22s %-22s\n' "$s" "$z" "$(summary ${cei[$c]})" \
    "$(summary ${ecm[$c]})" "$(summary ${post[$c]})" "$(summary ${ceil_r[$c]})" \
    "$(summary ${post_r[$c]})"
done
echo "postfix queue files left: $(bash bench/lib/postfix_instance.sh queued "$work/postfix")"
echo "ecmta: $(build_console=$build/mta/console/ec_console; $build_console "$work/ecmta/run/ec_console.sock" summary | grep -E 'Delivered|Queued|Failed' | tr '\n' ' ')"
