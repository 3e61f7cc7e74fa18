# Sourced by bench/relay/run.sh, profile.sh and instructions.sh: the ecmta they measure,
# relaying everything for bench.test to the smtp-sink on 127.0.0.1:SINK_PORT.
#
# write_relay_config FILE ROOT LISTEN_PORT SINK_PORT CONNECTIONS [GLOBAL_OPTIONS]: the
# ecelerity.conf, spool under ROOT, CONNECTIONS outbound connections to the sink.
write_relay_config() {
  local file=$1 root=$2 listen_port=$3 sink_port=$4 connections=$5 options=${6:-}
  mkdir -p "$(dirname "$file")"
  cat > "$file" <<CONF
spoolbase = "$root/spool"
$options
ESMTP_Listener {
  Listen "127.0.0.1:$listen_port" { }
  relay_hosts = ( "127.0.0.0/8" )
}
Domain "bench.test" {
  Routes = ( "smtp://127.0.0.1:$sink_port" )
  Max_Outbound_Connections = $connections
}
CONF
}

# start_relay_ecmta ECMTA WORK LISTEN_PORT SINK_PORT: writes WORK/ecmta/etc/ecelerity.conf with
# 20 outbound connections, starts ecmta in the background and sets ecmta_pid.
# RELAY_ECMTA_OPTIONS (environment): more global options for it, e.g. "spool_zero_ahead = 0" to
# measure without that.
start_relay_ecmta() {
  local ecmta=$1 work=$2 listen_port=$3 sink_port=$4
  write_relay_config "$work/ecmta/etc/ecelerity.conf" "$work/ecmta" "$listen_port" "$sink_port" \
    20 "${RELAY_ECMTA_OPTIONS:-}"
  "$ecmta" --config "$work/ecmta/etc/ecelerity.conf" --root "$work/ecmta" --foreground \
    --node-name bench --log-level warn > "$work/ecmta.log" 2>&1 &
  ecmta_pid=$!
}
