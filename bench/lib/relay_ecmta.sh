# Sourced by bench/relay/run.sh and profile.sh: the ecmta both measure, relaying everything
# for bench.test to the smtp-sink on 127.0.0.1:$sink_port with 20 outbound connections.
# start_relay_ecmta ECMTA WORK LISTEN_PORT SINK_PORT: writes WORK/ecmta/etc/ecelerity.conf,
# starts ecmta in the background and sets ecmta_pid. RELAY_ECMTA_OPTIONS (environment): more
# global options for it, e.g. "spool_zero_ahead = 0" to measure without that.
start_relay_ecmta() {
  local ecmta=$1 work=$2 listen_port=$3 sink_port=$4
  mkdir -p "$work/ecmta/etc"
  cat > "$work/ecmta/etc/ecelerity.conf" <<CONF
spoolbase = "$work/ecmta/spool"
${RELAY_ECMTA_OPTIONS:-}
ESMTP_Listener {
  Listen "127.0.0.1:$listen_port" { }
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
}
