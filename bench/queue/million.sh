#!/usr/bin/env bash
# Queue-size benchmark (issue 4): does ecmta keep a small memory footprint with a million
# messages queued? Fills a spool with N messages (spool_fill), starts ecmta on it with delivery
# suspended and no nameserver (nothing leaves the machine), waits until the console shows every
# message queued, and reports recovery time, VmRSS/VmHWM, RSS per queued message (minus an empty
# ecmta started the same way) and disk used. Builds nothing: point it at a build directory.
#
# Usage: bench/queue/million.sh BUILD_DIR [N=1000000]
# Environment: BENCH_DIR (scratch parent, default /var/tmp: the real disk), DOMAINS (1000),
#   MIN_BYTES/MAX_BYTES (1024/2048 body), TIME_LIMIT (total seconds, default 600),
#   HEAPTRACK=FILE (run the loaded ecmta under heaptrack, writing FILE.zst), KEEP=1 (keep scratch),
#   MAX_ANON_PER_MSG=B (fail if the heap per queued message is above B), WARM=1 (leave the
#   spool in the page cache), LOG_LEVEL (ecmta --log-level, default warn).
set -euo pipefail

build=${1:?usage: million.sh BUILD_DIR [N]}
n=${2:-1000000}
domains=${DOMAINS:-1000}
min_bytes=${MIN_BYTES:-1024}
max_bytes=${MAX_BYTES:-2048}
time_limit=${TIME_LIMIT:-600}
[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "N must be a positive integer" >&2; exit 2; }

find_bin() {
  local p
  for p in "$build/$2/$1" "$(find "$build" -name "$1" -type f -perm -u+x 2>/dev/null | head -1)"; do
    [[ -n $p && -x $p ]] && { echo "$p"; return; }
  done
  echo "million.sh: $1 not built in $build (build targets ecmta ec_console spool_fill)" >&2
  exit 2
}
ecmta=$(find_bin ecmta mta/daemon)
console=$(find_bin ec_console mta/console)
fill=$(find_bin spool_fill tests/unit/mta/spool)

start_s=$(date +%s)
deadline=$((start_s + time_limit))
left() { echo $((deadline - $(date +%s))); }

# Disk: about 1.7 KB per message at the default sizes (body + envelope + record header);
# ask for ~1.8 KB plus 10% and refuse rather than fill the disk.
parent=${BENCH_DIR:-/var/tmp}
need_kb=$(( n * (max_bytes + min_bytes) / 2 / 1024 + n / 4 + 65536 ))
avail_kb=$(df -Pk "$parent" | awk 'NR==2 {print $4}')
if (( need_kb * 11 / 10 > avail_kb )); then
  echo "million.sh: need ~$((need_kb / 1024)) MiB in $parent," \
    "only $((avail_kb / 1024)) MiB free" >&2
  exit 3
fi

scratch=$(mktemp -d "$parent/queue_bench.XXXXXX")
ecmta_pid=""
cleanup() {
  if [[ -n $ecmta_pid ]] && kill -0 "$ecmta_pid" 2>/dev/null; then
    kill -KILL "$ecmta_pid" 2>/dev/null || true
    wait "$ecmta_pid" 2>/dev/null || true
  fi
  if [[ ${KEEP:-0} == 1 ]]; then echo "kept $scratch"; else rm -rf "$scratch"; fi
}
trap cleanup EXIT

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# write_config ROOT PORT: delivery suspended globally, a resolv.conf without nameservers.
write_config() {
  local root=$1 port=$2
  mkdir -p "$root/etc" "$root/spool"
  echo "# no nameserver: the benchmark never queries DNS" > "$root/etc/resolv.conf"
  cat > "$root/etc/ecelerity.conf" <<EOF
# written by bench/queue/million.sh
spoolbase = "$root/spool"
pidfile = "$root/run/ecmta.pid"
resolv_conf = "$root/etc/resolv.conf"
suspend_delivery = true
ESMTP_Listener {
  Listen "127.0.0.1:$port" {
  }
}
EOF
}

summary() { timeout 20 "$console" "$1/run/ec_console.sock" summary 2>/dev/null || true; }
# summary_num TEXT LABEL: the first number after "LABEL:".
summary_num() { sed -n "s/^$2: [^0-9]*\([0-9][0-9]*\).*/\1/p" <<<"$1" | head -1; }
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
now() { date +%s.%N; }

# start_ecmta ROOT [wrapper...]: starts it in the background, sets ecmta_pid (the ecmta
# process itself, also under a wrapper).
start_ecmta() {
  local root=$1; shift
  "$@" "$ecmta" --foreground --config "$root/etc/ecelerity.conf" --root "$root" \
    --node-name bench --log-level "${LOG_LEVEL:-warn}" > "$root/ecmta.out" 2>&1 &
  ecmta_pid=$!
  if (( $# > 0 )); then  # the wrapper forks ecmta: find its child by parent pid
    local child="" i
    for ((i = 0; i < 200; i++)); do
      child=$(pgrep -P "$ecmta_pid" -x ecmta || true)
      [[ -n $child ]] && break
      sleep 0.1
    done
    [[ -n $child ]] || { echo "ecmta did not start under $1" >&2; exit 1; }
    wrapper_pid=$ecmta_pid
    ecmta_pid=$child
  fi
}

# wait_queued ROOT N: polls the console until "Outbound queue: N entries"; bounded.
wait_queued() {
  local root=$1 want=$2 text q
  while :; do
    if ! kill -0 "$ecmta_pid" 2>/dev/null; then
      echo "ecmta exited:" >&2; tail -20 "$root/ecmta.out" >&2; exit 1
    fi
    text=$(summary "$root")
    q=$(summary_num "$text" "Outbound queue")
    [[ -n $q && $q -ge $want ]] && { last_summary=$text; return; }
    (( $(left) > 0 )) || { echo "timed out waiting for $want queued (at ${q:-?})" >&2; exit 1; }
    sleep 0.2
  done
}

stop_ecmta() {
  local i
  kill -TERM "$ecmta_pid" 2>/dev/null || true
  for ((i = 0; i < 600; i++)); do
    kill -0 "$ecmta_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$ecmta_pid" 2>/dev/null; then
    echo "ecmta did not stop within 60 s; killing" >&2
    kill -KILL "$ecmta_pid" 2>/dev/null || true
  fi
  if [[ -n ${wrapper_pid:-} ]]; then
    for ((i = 0; i < 1200; i++)); do kill -0 "$wrapper_pid" 2>/dev/null || break; sleep 0.1; done
    wrapper_pid=""
  fi
  wait 2>/dev/null || true
  ecmta_pid=""
}

# 1. An empty ecmta, started the same way: the baseline.
empty="$scratch/empty"
write_config "$empty" "$(free_port)"
start_ecmta "$empty"
wait_queued "$empty" 0
base_rss=$(status_kb "$ecmta_pid" VmRSS)
base_hwm=$(status_kb "$ecmta_pid" VmHWM)
base_anon=$(status_kb "$ecmta_pid" RssAnon)
stop_ecmta

# 2. Fill the spool.
root="$scratch/full"
write_config "$root" "$(free_port)"
echo "filling $n messages into $root/spool ..."
fill_out=$("$fill" "$root/spool" "$n" "$domains" "$min_bytes" "$max_bytes" "$(left)")
echo "$fill_out"
kv() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1" | head -1; }
fill_rate=$(kv "$fill_out" msg_per_s)
fill_secs=$(kv "$fill_out" seconds)

# 3. Start ecmta on the full spool; recovery ends when every message is queued.
# Cold start by default, as after a reboot: drop the spool's pages (only those files) from the
# page cache, so recovery reads the disk. WARM=1 keeps them cached.
sync
cache="warm"
if [[ ${WARM:-0} != 1 ]]; then
  /usr/bin/python3 - "$root/spool" <<'PY'
import os, sys
for name in os.listdir(sys.argv[1]):
    fd = os.open(os.path.join(sys.argv[1], name), os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
PY
  cache="cold"
fi
t0=$(now)
if [[ -n ${HEAPTRACK:-} ]]; then
  start_ecmta "$root" heaptrack -o "$HEAPTRACK"
else
  start_ecmta "$root"
fi
wait_queued "$root" "$n"
t1=$(now)
queued_spool=$(summary_num "$last_summary" "Queued")
queued_out=$(summary_num "$last_summary" "Outbound queue")
delivered=$(summary_num "$last_summary" "Delivered")
conns=$(summary_num "$last_summary" "Outbound connections")
rss=$(status_kb "$ecmta_pid" VmRSS)
hwm=$(status_kb "$ecmta_pid" VmHWM)
anon=$(status_kb "$ecmta_pid" RssAnon)
file=$(status_kb "$ecmta_pid" RssFile)
# Settle: a second reading a few seconds later shows whether memory still grows.
sleep 3
rss2=$(status_kb "$ecmta_pid" VmRSS)
mailq=$(timeout 60 "$console" "$root/run/ec_console.sock" mailq 2>/dev/null || true)
domains_seen=$(grep -c '\.bench\.test' <<<"$mailq" || true)
domains_suspended=$(grep '\.bench\.test' <<<"$mailq" | grep -c ' suspended' || true)
transient=$(summary_num "$last_summary" "Failed")
du_bytes=$(du -sb "$root/spool" | cut -f1)
du_alloc=$(du -sk "$root/spool" | cut -f1)
ts0=$(now)
stop_ecmta
ts1=$(now)

per_msg() { awk -v a="$1" -v b="$2" -v n="$n" 'BEGIN {printf "%.0f", (a - b) * 1024 / n}'; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f s", b - a}'; }
row() { printf '%-34s %s\n' "$1" "$2"; }
echo
row "queue benchmark" "N=$n domains=$domains body=${min_bytes}-${max_bytes} B"
row "fill (spool_fill)" "$fill_secs s, $fill_rate msg/s"
row "spool on disk (du, allocated)" \
  "$(mib "$du_alloc") MiB ($((du_alloc * 1024 / n)) B/msg; apparent $du_bytes B)"
row "recovery (start -> all queued)" "$(secs "$t0" "$t1") (page cache $cache)"
row "console: spool / outbound queue" "$queued_spool messages / $queued_out entries"
row "console: delivered / connections" "$delivered / $conns, $transient transient failures"
row "mailq: domains / suspended" "$domains_seen / $domains_suspended"
row "empty ecmta VmRSS / VmHWM" "$(mib "$base_rss") / $(mib "$base_hwm") MiB"
row "loaded ecmta VmRSS / VmHWM" \
  "$(mib "$rss") / $(mib "$hwm") MiB (VmRSS +3 s: $(mib "$rss2") MiB)"
row "loaded ecmta RssAnon / RssFile" \
  "$(mib "$anon") / $(mib "$file") MiB (empty: RssAnon $(mib "$base_anon") MiB)"
row "RSS per queued message" "$(per_msg "$rss" "$base_rss") B (RssAnon: \
$(per_msg "$anon" "$base_anon") B, VmHWM: $(per_msg "$hwm" "$base_hwm") B)"
row "stop (SIGTERM -> exit)" "$(secs "$ts0" "$ts1")"
row "total wall time" "$(( $(date +%s) - start_s )) s"
# Checks: every message queued, nothing delivered; optionally a ceiling on heap per message.
if [[ $queued_spool != "$n" || $queued_out != "$n" || $delivered != 0 ||
      $domains_suspended != "$domains_seen" ]]; then
  echo "FAIL: expected $n queued, 0 delivered, every domain suspended" >&2
  exit 1
fi
anon_per_msg=$(per_msg "$anon" "$base_anon")
if [[ -n ${MAX_ANON_PER_MSG:-} ]] && (( anon_per_msg > MAX_ANON_PER_MSG )); then
  echo "FAIL: RssAnon per message $anon_per_msg B > MAX_ANON_PER_MSG=$MAX_ANON_PER_MSG" >&2
  exit 1
fi
if [[ -n ${HEAPTRACK:-} ]]; then
  echo "heaptrack data: $(ls "$HEAPTRACK"* 2>/dev/null | head -1) (heaptrack_print -f FILE)"
fi
