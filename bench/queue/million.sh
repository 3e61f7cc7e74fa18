#!/usr/bin/env bash
# Queue-size benchmark (issue 4, issue 17): does ecmta keep a small memory footprint with a
# million messages queued, and how long does it take to queue them again at start? Fills a spool
# with N messages (spool_fill), starts ecmta on it with delivery suspended and no nameserver
# (nothing leaves the machine), waits until the console shows every message queued, and reports
# recovery time (wall and CPU), heap in use, VmRSS/RssAnon per queued message (minus an empty
# ecmta started the same way) and disk used. Builds nothing: point it at a build directory.
#
# Usage: bench/queue/million.sh BUILD_DIR [N=1000000]
# Environment: BENCH_DIR (scratch parent, default /var/tmp: the real disk), DOMAINS (1000),
#   MIN_BYTES/MAX_BYTES (1024/2048 body), TIME_LIMIT (total seconds, default 600),
#   DEFERRED=P (P% of the messages wait for a retry a day away: queued as delayed, not ready),
#   RUNS (recoveries of the same spool, default 1), COMPARE=OTHER_BUILD_DIR (alternate each run
#   between BUILD_DIR and OTHER_BUILD_DIR on the same spool: A B A B ...),
#   HEAPTRACK=FILE (run the loaded ecmta under heaptrack, writing FILE.<run>.zst), PERF=FILE (run
#   it under perf record -g, writing FILE.<run>), KEEP=1 (keep scratch),
#   MAX_ANON_PER_MSG=B (fail if the heap per queued message is above B), WARM=1 (leave the
#   spool in the page cache), LOG_LEVEL (ecmta --log-level, default info: the spool/scheduler
#   split of recovery comes from its log), MALLOC_STATS=0 (skip the gdb malloc_stats() reading).
set -euo pipefail

build=${1:?usage: million.sh BUILD_DIR [N]}
n=${2:-1000000}
domains=${DOMAINS:-1000}
min_bytes=${MIN_BYTES:-1024}
max_bytes=${MAX_BYTES:-2048}
time_limit=${TIME_LIMIT:-600}
runs=${RUNS:-1}
deferred=${DEFERRED:-0}
[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "N must be a positive integer" >&2; exit 2; }
[[ $runs =~ ^[1-9][0-9]?$ ]] || { echo "RUNS must be 1..99" >&2; exit 2; }
[[ $deferred =~ ^[0-9]+$ ]] && (( deferred <= 100 )) || { echo "DEFERRED: 0..100" >&2; exit 2; }

# find_bin NAME SUBDIR BUILD
find_bin() {
  local p
  for p in "$3/$2/$1" "$(find "$3" -name "$1" -type f -perm -u+x 2>/dev/null | head -1)"; do
    [[ -n $p && -x $p ]] && { echo "$p"; return; }
  done
  echo "million.sh: $1 not built in $3 (build targets ecmta ec_console spool_fill)" >&2
  exit 2
}
builds=("$build")
[[ -n ${COMPARE:-} ]] && builds+=("$COMPARE")
ecmtas=()
for b in "${builds[@]}"; do ecmtas+=("$(find_bin ecmta mta/daemon "$b")"); done
console=$(find_bin ec_console mta/console "$build")
fill=$(find_bin spool_fill tests/unit/mta/spool "$build")
use_gdb=0
[[ ${MALLOC_STATS:-1} == 1 ]] && command -v gdb >/dev/null && use_gdb=1

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
chmod 0755 "$scratch"  # started as root, ecmta drops to its user, which must traverse this
ecmta_pid=""
wrapper_pid=""
cleanup() {
  local p
  for p in "$ecmta_pid" "$wrapper_pid"; do
    if [[ -n $p ]] && kill -0 "$p" 2>/dev/null; then
      kill -KILL "$p" 2>/dev/null || true
      wait "$p" 2>/dev/null || true
    fi
  done
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
# cpu_s PID: user + system CPU seconds the process has used so far (all its threads).
cpu_s() {
  awk -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz}' \
    "/proc/$1/stat"
}
# heap_in_use PID OUT: bytes malloc has handed out and not got back (glibc malloc_stats(), all
# arenas, "Total (incl. mmap)"), read by stopping the process for a moment under gdb; empty when
# gdb is not used or fails. malloc_stats() prints to the process's stderr, i.e. OUT.
heap_in_use() {
  [[ $use_gdb == 1 ]] || return 0
  local out=$2 before i
  before=$(wc -l < "$out")
  timeout 60 gdb -p "$1" -batch -nx -ex 'call (void) malloc_stats()' >/dev/null 2>&1 || true
  for ((i = 0; i < 20; i++)); do
    tail -n +"$((before + 1))" "$out" | grep -q 'in use bytes' && break
    sleep 0.1
  done
  tail -n +"$((before + 1))" "$out" |
    awk '/^Total \(incl. mmap\):/ {t = 1} t && /in use bytes/ {print $NF; exit}'
}

# start_ecmta BINARY ROOT [wrapper...]: starts it in the background, sets ecmta_pid (the ecmta
# process itself, also under a wrapper).
start_ecmta() {
  local bin=$1 root=$2
  shift 2
  "$@" "$bin" --foreground --config "$root/etc/ecelerity.conf" --root "$root" \
    --node-name bench --log-level "${LOG_LEVEL:-info}" > "$root/ecmta.out" 2>&1 &
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
    sleep 0.1
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
  if [[ -n $wrapper_pid ]]; then
    for ((i = 0; i < 1200; i++)); do kill -0 "$wrapper_pid" 2>/dev/null || break; sleep 0.1; done
    wrapper_pid=""
  fi
  wait 2>/dev/null || true
  ecmta_pid=""
}

# log_s ROOT PATTERN: the epoch seconds of ecmta's first log line matching PATTERN.
log_s() {
  local ts
  ts=$(grep -m1 -- "$2" "$1/ecmta.out" | sed -n 's/^\([0-9T:.-]*Z\) .*/\1/p')
  [[ -n $ts ]] && date -d "$ts" +%s.%N
}

per_msg() { awk -v a="$1" -v b="$2" -v n="$n" 'BEGIN {printf "%.0f", (a - b) * 1024 / n}'; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b - a}'; }
row() { printf '%-34s %s\n' "$1" "$2"; }

# drop_cache DIR: evicts the spool's files (only those) from the page cache, as after a reboot.
drop_cache() {
  sync
  /usr/bin/python3 - "$1" <<'PY'
import os, sys
for name in os.listdir(sys.argv[1]):
    fd = os.open(os.path.join(sys.argv[1], name), os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
PY
}

# 1. An empty ecmta per build, started the same way: the baseline.
declare -a base_rss base_hwm base_anon base_heap
for i in "${!builds[@]}"; do
  empty="$scratch/empty$i"
  write_config "$empty" "$(free_port)"
  start_ecmta "${ecmtas[$i]}" "$empty"
  wait_queued "$empty" 0
  base_rss[i]=$(status_kb "$ecmta_pid" VmRSS)
  base_hwm[i]=$(status_kb "$ecmta_pid" VmHWM)
  base_anon[i]=$(status_kb "$ecmta_pid" RssAnon)
  base_heap[i]=$(heap_in_use "$ecmta_pid" "$empty/ecmta.out")
  stop_ecmta
done

# 2. Fill the spool.
root="$scratch/full"
write_config "$root" "$(free_port)"
echo "filling $n messages into $root/spool ..."
fill_out=$("$fill" "$root/spool" "$n" "$domains" "$min_bytes" "$max_bytes" "$(left)" "$deferred")
echo "$fill_out"
kv() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1" | head -1; }
fill_rate=$(kv "$fill_out" msg_per_s)
fill_secs=$(kv "$fill_out" seconds)
du_bytes=$(du -sb "$root/spool" | cut -f1)
du_alloc=$(du -sk "$root/spool" | cut -f1)

# 3. Start ecmta on the full spool RUNS times (alternating builds with COMPARE, same spool);
# recovery ends when the console shows every message queued. One line per run, then the median
# and range per build. Cold start by default, as after a reboot; WARM=1 keeps the spool cached.
cache=$([[ ${WARM:-0} == 1 ]] && echo warm || echo cold)
# spool_fill defers message n when n % 100 < DEFERRED.
want_delayed=$(( n / 100 * deferred + (n % 100 < deferred ? n % 100 : deferred) ))
results="$scratch/results"
: > "$results"
failed=0
echo
row "queue benchmark" "N=$n domains=$domains body=${min_bytes}-${max_bytes} B,\
 deferred $deferred%, page cache $cache"
row "fill (spool_fill)" "$fill_secs s, $fill_rate msg/s"
row "spool on disk (du, allocated)" \
  "$(mib "$du_alloc") MiB ($((du_alloc * 1024 / n)) B/msg; apparent $du_bytes B)"
for i in "${!builds[@]}"; do
  row "build $i" "${builds[$i]} (empty ecmta: VmRSS $(mib "${base_rss[i]}") MiB,\
 RssAnon $(mib "${base_anon[i]}") MiB, heap in use ${base_heap[i]:-?} B)"
done
echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-4s %-5s %7s %7s %7s %7s %9s %10s %10s %9s %6s\n' run build wall_s cpu_s spool_s \
  sched_s rss_B/msg anon_B/msg heap_B/msg hwm_B/msg load1
for ((r = 0; r < runs * ${#builds[@]}; r++)); do
  i=$((r % ${#builds[@]}))
  [[ ${WARM:-0} == 1 ]] || drop_cache "$root/spool"
  load1=$(cut -d' ' -f1 /proc/loadavg)
  t0=$(now)
  if [[ -n ${HEAPTRACK:-} ]]; then
    start_ecmta "${ecmtas[$i]}" "$root" heaptrack -o "$HEAPTRACK.$r"
  elif [[ -n ${PERF:-} ]]; then
    start_ecmta "${ecmtas[$i]}" "$root" perf record -q -F 499 -g -o "$PERF.$r"
  else
    start_ecmta "${ecmtas[$i]}" "$root"
  fi
  wait_queued "$root" "$n"
  t1=$(now)
  cpu=$(cpu_s "$ecmta_pid")
  rss=$(status_kb "$ecmta_pid" VmRSS)
  hwm=$(status_kb "$ecmta_pid" VmHWM)
  anon=$(status_kb "$ecmta_pid" RssAnon)
  heap=$(heap_in_use "$ecmta_pid" "$root/ecmta.out")
  queued_spool=$(summary_num "$last_summary" "Queued")
  queued_out=$(summary_num "$last_summary" "Outbound queue")
  delivered=$(summary_num "$last_summary" "Delivered")
  # The spool-open / scheduler-recovery split, from the log (info level only).
  ts_spool=$(log_s "$root" 'msg="spool opened"' || true)
  ts_sched=$(log_s "$root" 'msg="outbound queue recovered"' || true)
  spool_s=-
  sched_s=-
  [[ -n $ts_spool ]] && spool_s=$(secs "$t0" "$ts_spool")
  [[ -n $ts_spool && -n $ts_sched ]] && sched_s=$(secs "$ts_spool" "$ts_sched")
  mailq=$(timeout 60 "$console" "$root/run/ec_console.sock" mailq 2>/dev/null || true)
  domains_seen=$(grep -c '\.bench\.test' <<<"$mailq" || true)
  domains_suspended=$(grep '\.bench\.test' <<<"$mailq" | grep -c ' suspended' || true)
  delayed_seen=$(sed -n 's/^Total: .* delayed=\([0-9]*\).*/\1/p' <<<"$mailq")
  stop_ecmta
  heap_pm=-
  if [[ -n $heap && -n ${base_heap[i]} ]]; then
    heap_pm=$(awk -v a="$heap" -v b="${base_heap[i]}" -v n="$n" \
      'BEGIN {printf "%.0f", (a - b) / n}')
  fi
  anon_pm=$(per_msg "$anon" "${base_anon[i]}")
  line=$(printf '%-4s %-5s %7s %7s %7s %7s %9s %10s %10s %9s %6s' "$r" "$i" \
    "$(secs "$t0" "$t1")" "$cpu" "$spool_s" "$sched_s" "$(per_msg "$rss" "${base_rss[i]}")" \
    "$anon_pm" "$heap_pm" "$(per_msg "$hwm" "${base_hwm[i]}")" "$load1")
  echo "$line"
  echo "$line" >> "$results"
  # Checks: every message queued (the deferred ones as delayed), nothing delivered, every
  # domain there, and suspended (a domain with only delayed mail does not show it: its policy,
  # which says so, is read when it next has mail to send).
  if [[ $queued_spool != "$n" || $queued_out != "$n" || $delivered != 0 ||
        $domains_seen != "$domains" || $delayed_seen != "$want_delayed" ||
        ( $deferred == 0 && $domains_suspended != "$domains_seen" ) ]]; then
    echo "FAIL (run $r): want $n queued ($want_delayed delayed), 0 delivered, $domains domains" \
      "(suspended); got $queued_spool / $queued_out ($delayed_seen) / $delivered /" \
      "$domains_seen ($domains_suspended)" >&2
    failed=1
  fi
  if [[ -n ${MAX_ANON_PER_MSG:-} ]] && (( anon_pm > MAX_ANON_PER_MSG )); then
    echo "FAIL (run $r): RssAnon per message $anon_pm B > MAX_ANON_PER_MSG=$MAX_ANON_PER_MSG" >&2
    failed=1
  fi
done

# stat_col BUILD COLUMN: "median [min-max]" of that column over the build's runs.
stat_col() {
  awk -v b="$1" -v c="$2" '$2 == b && $c != "-" {print $c}' "$results" | sort -g | awk '
    {v[NR] = $1}
    END {
      if (NR == 0) { print "-"; exit }
      m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      printf "%s [%s-%s]\n", m, v[1], v[NR]
    }'
}
echo
printf '%-5s %-20s %-20s %-20s %-20s %-16s %-16s\n' build "wall_s med [range]" \
  "cpu_s med [range]" "spool_s med [range]" "sched_s med [range]" "anon_B/msg med" \
  "heap_B/msg med"
for i in "${!builds[@]}"; do
  printf '%-5s %-20s %-20s %-20s %-20s %-16s %-16s\n' "$i" "$(stat_col "$i" 3)" \
    "$(stat_col "$i" 4)" "$(stat_col "$i" 5)" "$(stat_col "$i" 6)" "$(stat_col "$i" 8)" \
    "$(stat_col "$i" 9)"
done
row "total wall time" "$(( $(date +%s) - start_s )) s"
if [[ -n ${HEAPTRACK:-} ]]; then
  echo "heaptrack data: $(ls "$HEAPTRACK"* 2>/dev/null | head -3 | tr '\n' ' ')(heaptrack_print -f FILE)"
fi
if [[ -n ${PERF:-} ]]; then
  echo "perf data: $(ls "$PERF".* 2>/dev/null | head -3 | tr '\n' ' ')(perf report -i FILE)"
fi
exit "$failed"
