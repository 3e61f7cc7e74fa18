# Sourced by bench/relay/run.sh and profile.sh: Postfix's smtp-sink as the relay's last hop,
# counting messages instead of writing each to a file. With -d (one file per message) the sink
# itself was the bottleneck on a 2-core machine: smtp-source straight into it made about 3,000
# msg/s at 20 x 4 KB against about 7,000 with -c, so every MTA measured behind it, and the no-MTA
# ceiling, were capped by the sink's file system work rather than by their own.
# start_counting_sink WORK PORT: starts it in the background, sets sink_pid.
# sink_count WORK -> messages the sink has received so far (cumulative, from its -c counters).
start_counting_sink() {
  local work=$1 port=$2
  smtp-sink -u "$(id -un)" -c "127.0.0.1:$port" 1024 > "$work/sink.count" 2> "$work/sink.log" &
  sink_pid=$!
}
sink_count() {
  # -c rewrites "sess=N quit=N mesg=N" after "\r" at every session end, QUIT and "."
  tail -c 200 "$1/sink.count" 2>/dev/null | tr '\r' '\n' | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' |
    tail -1 | grep . || echo 0
}
