#!/usr/bin/env bash
# The main job: a local cluster on loopback, built from the shipped conf/.
#
#   bash scripts/local-cluster.sh [BUILD_DIR]     (default build/release)
#
# 1. validates the shipped config tree (ec_conf check) and shows one `config eval`;
# 2. starts the manager's ecconfigd on 127.0.0.10:2027, which seeds the cluster's git
#    repository from conf/;
# 3. the operator's working copy on the manager commits one file per node (node1..node3): the
#    shipped ecelerity.conf with its paths under this run's directory and its listener on the
#    node's own loopback address, as an operator of a one-host cluster would;
# 4. bootstraps node1..node3 (eccfg bootstrap), starts an ecmta on each (127.0.0.2-4:2525)
#    and an `eccfg pull --watch` beside it;
# 5. sends mail to every node with swaks and shows each node's summary and mainlog;
# 6. commits a config change on the manager (a new SMTP banner) and times how long until every
#    node answers with it: validated, swapped atomically and reloaded without a restart.
#
# Everything lives under $EC_DEMO_DIR (default build/local-cluster); every process this script
# starts is stopped by its PID at the end, unless EC_DEMO_KEEP=1 leaves the cluster running.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
build=$(cd "${1:-build/release}" && pwd)
dir=${EC_DEMO_DIR:-$src/build/local-cluster}
nodes=(node1 node2 node3)
manager_ip=127.0.0.10
smtp_port=2525

ecmta=$build/mta/daemon/ecmta
ec_conf=$build/common/tools/ec_conf
ec_console=$build/mta/console/ec_console
ecconfigd=$build/ecconfigd/ecconfigd
eccfg=$build/eccfg/eccfg
for b in "$ecmta" "$ec_conf" "$ec_console" "$ecconfigd" "$eccfg"; do
  [ -x "$b" ] || { echo "local-cluster: $b is missing; build first" >&2; exit 1; }
done

pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
if [ "${EC_DEMO_KEEP:-0}" != 1 ]; then trap stop_all EXIT; fi

step() { printf '\n== %s\n' "$*"; }
node_ip() { echo "127.0.0.$((${1#node} + 1))"; }
wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local limit=$1 what=$2; shift 2
  for _ in $(seq $((limit * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "local-cluster: timed out waiting for $what" >&2
  return 1
}
banner_of() {  # the first line a node's listener sends
  /usr/bin/python3 - "$1" "$smtp_port" <<'EOF'
import socket, sys
with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5) as s:
    print(s.makefile().readline().strip())
    s.sendall(b"QUIT\r\n")
EOF
}

# Stop what an earlier run with EC_DEMO_KEEP=1 left behind (its PIDs are recorded).
if [ -f "$dir/pids" ]; then
  while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$dir/pids"
  sleep 0.5
fi
rm -rf "$dir"
mkdir -p "$dir"
record() { pids+=("$1"); echo "$1" >>"$dir/pids"; }

step "1. the shipped configuration: conf/ validates, and 'config eval' says where values come from"
conf_args=(--node-name node1 --search-path "conf/global:conf/node1:conf/default"
           --config ecelerity.conf)
"$ec_conf" check "${conf_args[@]}" && echo "conf/: valid"
"$ec_conf" eval "${conf_args[@]}" --listen ":25" --peer 127.0.0.5 --option relay_hosts
"$ec_conf" eval "${conf_args[@]}" --domain example.com --option max_outbound_connections

step "2. manager: ecconfigd on $manager_ip:2027 seeds the cluster repository from conf/"
mkdir -p "$dir/manager"
echo "demo-admin-password" >"$dir/manager/admin.password"
"$ecconfigd" passwd admin --root "$dir/manager" <"$dir/manager/admin.password"
"$ecconfigd" --root "$dir/manager" --seed "$src/conf" --listen "$manager_ip" --port 2027 \
  --foreground --log-file "$dir/manager/ecconfigd.log" &
record $!
state=$dir/manager/ecconfigd
wait_for 20 "ecconfigd" test -s "$state/server.crt"
wait_for 20 "ecconfigd's port" bash -c "exec 3<>/dev/tcp/$manager_ip/2027"
boot_args=(--repo "$manager_ip:2027" --cert "$state/server.crt" --secret-file "$state/cluster.secret")
admin=(--username admin --password-file "$dir/manager/admin.password")

step "3. the operator's working copy on the manager: one ecelerity.conf per node"
"$eccfg" bootstrap --root "$dir/manager" --node-name manager "${boot_args[@]}"
mwc=$dir/manager/etc/conf
for n in "${nodes[@]}"; do
  mkdir -p "$mwc/$n"
  # The shipped file, with this node's paths and address: on a real cluster each node has its
  # own host and the defaults (/opt/ecmta, port 25) stand as shipped.
  sed -e "s#/opt/ecmta#$dir/$n#g" \
      -e "s#Listen \":25\"#Listen \"$(node_ip "$n"):$smtp_port\"#" \
      -e "s#127.0.0.1:2025#$(node_ip "$n"):2025#" \
      "$mwc/default/ecelerity.conf" >"$mwc/$n/ecelerity.conf"
done
"$eccfg" commit --root "$dir/manager" "${admin[@]}" --add-all \
  -m "local cluster: node1-3 on 127.0.0.2-4:$smtp_port"
"$eccfg" log --root "$dir/manager" --limit 3

step "4. nodes: bootstrap each working copy, start ecmta and a watching eccfg"
for n in "${nodes[@]}"; do
  root=$dir/$n
  mkdir -p "$root/log" "$root/run" "$root/spool"
  search="$root/etc/conf/global:$root/etc/conf/$n:$root/etc/conf/default"
  # Each new revision is checked by the node's own ecmta before the switch, and the daemon, if
  # running, reloads after it.
  "$eccfg" bootstrap --root "$root" --node-name "$n" "${boot_args[@]}" \
    --validate "$ecmta --check-config --root $root --node-name $n --search-path \$EC_CONF_DIR/global:\$EC_CONF_DIR/$n:\$EC_CONF_DIR/default" \
    --reload "test ! -S $root/run/ec_console.sock || $ec_console $root/run/ec_console.sock 'config reload'" -q
  "$ecmta" --root "$root" --node-name "$n" --search-path "$search" --foreground \
    --log-file "$root/log/ecmta.log" &
  record $!
  "$eccfg" pull --root "$root" --watch --wait 30 -q >>"$root/log/eccfg-watch.log" 2>&1 &
  record $!
done
for n in "${nodes[@]}"; do
  wait_for 20 "$n's listener" banner_of "$(node_ip "$n")"
  echo "$n: $(banner_of "$(node_ip "$n")")"
done

step "5. mail: swaks sends two messages to every node"
for n in "${nodes[@]}"; do
  for i in 1 2; do
    swaks --silent 2 --server "$(node_ip "$n")" --port "$smtp_port" \
      --from "demo@example.org" --to "user$i@example.net" \
      --header "Subject: local cluster demo $n #$i" --body "hello from the demo"
  done
done
for n in "${nodes[@]}"; do
  echo "-- $n: ec_console summary"
  "$ec_console" "$dir/$n/run/ec_console.sock" summary
done
echo "-- node1 mainlog"
cat "$dir/node1/log/mainlog.ec"

step "6. a config change on the manager reaches every node"
for n in "${nodes[@]}"; do
  sed -i "s#^ESMTP_Listener {#ESMTP_Listener {\n  static_banner = \"220 $n ready, revision 3\"#" \
    "$mwc/$n/ecelerity.conf"
done
"$eccfg" diff --root "$dir/manager" | head -12
start=$(date +%s.%N)
"$eccfg" commit --root "$dir/manager" "${admin[@]}" -m "new SMTP banner on every node"
for n in "${nodes[@]}"; do
  wait_for 30 "$n to apply the change" bash -c "$(declare -f banner_of); smtp_port=$smtp_port; banner_of $(node_ip "$n") | grep -q 'revision 3'"
done
end=$(date +%s.%N)
for n in "${nodes[@]}"; do echo "$n: $(banner_of "$(node_ip "$n")")"; done
printf 'committed to applied on all %d nodes in %.2f s\n' "${#nodes[@]}" "$(echo "$end - $start" | bc)"

step "the cluster"
cat <<EOF
run directory: $dir
  send mail:    swaks --server 127.0.0.2 --port $smtp_port --to someone@example.net
  console:      $ec_console $dir/node1/run/ec_console.sock summary
  change conf:  edit $mwc/node1/ecelerity.conf, then
                $eccfg commit --root $dir/manager ${admin[*]} -m 'why'
  node state:   $eccfg status --root $dir/node1 ; git -C $dir/node1/etc/conf log --oneline
EOF
if [ "${EC_DEMO_KEEP:-0}" = 1 ]; then
  echo "EC_DEMO_KEEP=1: the cluster keeps running; PIDs in $dir/pids"
else
  echo "stopping the cluster (EC_DEMO_KEEP=1 leaves it running)"
fi
