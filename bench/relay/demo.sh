#!/usr/bin/env bash
# Mail flowing through one ecmta node into a local sink, for the README's main job:
# smtp-source -> ecmta (127.0.0.1:2745, durable spool) -> Postfix's smtp-sink (127.0.0.1:2746),
# then the node's mainlog R/D lines, `mailq` and what the sink received.
#
#   bench/relay/demo.sh [BUILD_DIR]      (default build/release)
#
# Loopback only; every process is started and stopped here, by PID; bounded waits.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/release}
ecmta=$build/mta/daemon/ecmta console=$build/mta/console/ec_console
[ -x "$ecmta" ] || { echo "no $ecmta: build first" >&2; exit 1; }
export PATH=$PATH:/usr/sbin
command -v smtp-sink >/dev/null && command -v smtp-source >/dev/null ||
  { echo "smtp-sink/smtp-source missing (postfix package)" >&2; exit 1; }

work=$(mktemp -d /tmp/ecmta-demo.XXXXXX)
ecmta_pid= sink_pid=
cleanup() {
  [ -n "$ecmta_pid" ] && kill "$ecmta_pid" 2>/dev/null && wait "$ecmta_pid" 2>/dev/null || true
  [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null && wait "$sink_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
mta_port=2745 sink_port=2746 count=5

mkdir -p "$work/sink" "$work/node/etc"
smtp-sink -u "$(id -un)" -d "$work/sink/%M." "127.0.0.1:$sink_port" 64 > "$work/sink.log" 2>&1 &
sink_pid=$!
cat > "$work/node/etc/ecelerity.conf" <<CONF
spoolbase = "$work/node/spool"
resolv_conf = "$work/node/etc/resolv.conf"
ESMTP_Listener {
  Listen "127.0.0.1:$mta_port" { }
  relay_hosts = ( "127.0.0.0/8" )
}
Domain "example.test" {
  Routes = ( "smtp://127.0.0.1:$sink_port" )
}
CONF
: > "$work/node/etc/resolv.conf"  # no DNS needed: the route is static
"$ecmta" --config "$work/node/etc/ecelerity.conf" --root "$work/node" --foreground \
  --node-name demo --log-level warn > "$work/ecmta.log" 2>&1 &
ecmta_pid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$mta_port) 2>/dev/null && break; sleep 0.1; done

echo "== smtp-source: $count messages to rcpt@example.test via ecmta on 127.0.0.1:$mta_port"
smtp-source -s 1 -m $count -l 2048 -f sender@demo.test -t rcpt@example.test "127.0.0.1:$mta_port"
for _ in $(seq 200); do
  [ "$(find "$work/sink" -type f | wc -l)" -ge $count ] && break; sleep 0.05
done
echo "== mainlog (R = received, D = delivered)"
cat "$work/node/log/mainlog.ec"
echo "== ec_console mailq"
"$console" "$work/node/run/ec_console.sock" mailq
echo "== the sink received $(find "$work/sink" -type f | wc -l) messages; the first one:"
head -12 "$(find "$work/sink" -type f | head -1)"
