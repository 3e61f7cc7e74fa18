#!/usr/bin/env bash
# Acceptance benchmark: messages/s made durable and answered 250, for ecmta and for Postfix on
# the same machine in the same run, driven by Postfix's smtp-source with 4 KB messages at 1 and
# 20 sessions. Both fsync before 250 (Postfix: cleanup's fsync; ecmta: group commit). Neither
# delivers: Postfix holds every message, ecmta has no route configured yet.
#
#   bench/acceptance.sh [BUILD_DIR]        (default build/release; run as root for Postfix)
#
# Bounded: a fixed message count per run, each run under a time limit. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
ecmta=$build/mta/daemon/ecmta
[ -x "$ecmta" ] || { echo "no $ecmta: build first (cmake --build $build)" >&2; exit 1; }
command -v smtp-source >/dev/null || { echo "smtp-source missing: bash scripts/install-deps.sh" >&2; exit 1; }

work=$(mktemp -d /tmp/ecmta-bench.XXXXXX)
chmod 755 "$work"  # Postfix daemons run as user postfix and must reach their queue
ecmta_pid=
cleanup() {
  [ -n "$ecmta_pid" ] && kill "$ecmta_pid" 2>/dev/null && wait "$ecmta_pid" 2>/dev/null || true
  bash bench/lib/postfix_instance.sh stop "$work/postfix" || true
  rm -rf "$work"
}
trap cleanup EXIT

size=4096
runs=("1 1500" "20 6000")   # sessions messages
ecmta_port=2725 postfix_port=2726

mkdir -p "$work/ecmta/etc"
cat > "$work/ecmta/etc/ecelerity.conf" <<CONF
spoolbase = "$work/ecmta/spool"
ESMTP_Listener {
  Listen "127.0.0.1:$ecmta_port" { }
  relay_hosts = ( "127.0.0.0/8" )
}
CONF
"$ecmta" --config "$work/ecmta/etc/ecelerity.conf" --root "$work/ecmta" --foreground \
  --node-name bench --log-level warn > "$work/ecmta.log" 2>&1 &
ecmta_pid=$!
bash bench/lib/postfix_instance.sh start "$work/postfix" "127.0.0.1:$postfix_port" accept
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$ecmta_port) 2>/dev/null && break; sleep 0.1; done

# rate SESSIONS MESSAGES PORT -> messages/s
rate() {
  local start end
  start=$(date +%s.%N)
  timeout 300 smtp-source -s "$1" -l "$size" -m "$2" -f sender@bench.test -t rcpt@bench.test \
    "127.0.0.1:$3" >/dev/null
  end=$(date +%s.%N)
  echo "$2 / ($end - $start)" | bc -l
}

printf '%-10s %-9s %12s %12s %8s\n' sessions messages ecmta_msg/s postfix_msg/s ratio
for run in "${runs[@]}"; do
  set -- $run
  # warm-up, then the measured runs
  rate "$1" 200 $ecmta_port >/dev/null; rate "$1" 200 $postfix_port >/dev/null
  e=$(rate "$1" "$2" $ecmta_port)
  p=$(rate "$1" "$2" $postfix_port)
  printf '%-10s %-9s %12.0f %12.0f %8.2f\n' "$1" "$2" "$e" "$p" "$(echo "$e / $p" | bc -l)"
done
queued=$(bash bench/lib/postfix_instance.sh queued "$work/postfix")
echo "postfix queue files: $queued (every accepted message durable in its queue)"
