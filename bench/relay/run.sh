#!/usr/bin/env bash
# End-to-end relay benchmark: smtp-source -> MTA -> smtp-sink, for ecmta and for Postfix on the
# same machine in the same run, with the same durability (each fsyncs a message before its 250
# and records its delivery before forgetting it; Postfix: cleanup's fsync and queue-file
# removal, ecmta: group-committed spool records). Measures messages/s delivered end to end,
# from smtp-source's first connection until the sink holds every message, for 1 and 20
# sessions with 4 KB and 100 KB messages, and prints the ratios.
#
#   bench/relay/run.sh [BUILD_DIR]     (default build/release; run as root for Postfix)
#
# Bounded: a fixed message count per run, each run under a time limit. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/../.."
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
# sessions size_bytes messages
runs=("1 4096 1000" "20 4096 4000" "1 102400 300" "20 102400 1000")
# RELAY_QUICK=1: a short smoke run of the script itself (figures not meaningful).
[ -n "${RELAY_QUICK:-}" ] && runs=("1 4096 50" "20 4096 200")
run_limit=300

mkdir -p "$work/sink"
smtp-sink -u "$(id -un)" -d "$work/sink/%M." "127.0.0.1:$sink_port" 1024 > "$work/sink.log" 2>&1 &
sink_pid=$!

mkdir -p "$work/ecmta/etc"
cat > "$work/ecmta/etc/ecelerity.conf" <<CONF
spoolbase = "$work/ecmta/spool"
ESMTP_Listener {
  Listen "127.0.0.1:$ecmta_port" { }
  relay_hosts = ( "127.0.0.0/8" )
}
Domain "bench.test" {
  Routes = ( "smtp://127.0.0.1:$sink_port" )
  Max_Outbound_Connections = 20
}
CONF
"$ecmta" --config "$work/ecmta/etc/ecelerity.conf" --root "$work/ecmta" --foreground \
  --node-name bench --log-level warn > "$work/ecmta.log" 2>&1 &
ecmta_pid=$!
bash bench/lib/postfix_instance.sh start "$work/postfix" "127.0.0.1:$postfix_port" relay \
  "[127.0.0.1]:$sink_port"
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$ecmta_port) 2>/dev/null && break; sleep 0.1; done
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$sink_port) 2>/dev/null && break; sleep 0.1; done

sunk() { find "$work/sink" -type f | wc -l; }

# rate SESSIONS SIZE MESSAGES PORT -> messages/s delivered end to end (or "timeout")
rate() {
  local sessions=$1 size=$2 messages=$3 port=$4 start end before deadline
  rm -rf "$work/sink" && mkdir -p "$work/sink"
  start=$(date +%s.%N)
  timeout $run_limit smtp-source -s "$sessions" -l "$size" -m "$messages" \
    -f sender@bench.test -t rcpt@bench.test "127.0.0.1:$port" >/dev/null
  deadline=$(( $(date +%s) + run_limit ))
  while [ "$(sunk)" -lt "$messages" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo timeout; return; }
    sleep 0.02
  done
  end=$(date +%s.%N)
  echo "$messages / ($end - $start)" | bc -l
}

printf '%-9s %-8s %-9s %12s %14s %8s\n' sessions size messages ecmta_msg/s postfix_msg/s ratio
for run in "${runs[@]}"; do
  set -- $run
  # warm-up, then the measured runs
  rate "$1" "$2" 100 $ecmta_port >/dev/null; rate "$1" "$2" 100 $postfix_port >/dev/null
  e=$(rate "$1" "$2" "$3" $ecmta_port)
  p=$(rate "$1" "$2" "$3" $postfix_port)
  if [ "$e" = timeout ] || [ "$p" = timeout ]; then
    printf '%-9s %-8s %-9s %12s %14s %8s\n' "$1" "$2" "$3" "$e" "$p" "-"
  else
    printf '%-9s %-8s %-9s %12.0f %14.0f %8.2f\n' "$1" "$2" "$3" "$e" "$p" "$(echo "$e / $p" | bc -l)"
  fi
done
echo "postfix queue files left: $(bash bench/lib/postfix_instance.sh queued "$work/postfix")"
echo "ecmta: $(build_console=$build/mta/console/ec_console; $build_console "$work/ecmta/run/ec_console.sock" summary | grep -E 'Delivered|Queued|Failed' | tr '\n' ' ')"
