#!/usr/bin/env bash
# The main job: a local cluster on loopback, built from the shipped conf/.
#
#   bash scripts/local-cluster.sh [BUILD_DIR]     (default build/release)
#
# 1. validates the shipped config tree (ec_conf check) and shows `config eval`;
# 2. starts the manager's ecconfigd on 127.0.0.10:2027, which seeds the cluster's git
#    repository from conf/;
# 3. starts the outside world on 127.0.0.20: dnsmasq serving example.net's MX, and Postfix's
#    smtp-sink receiving its mail;
# 4. on the manager's working copy: the bus peers and CURVE keys, and one ecelerity.conf per
#    node (the shipped one with this run's paths and the node's own address), committed;
# 5. starts eccmgr on 127.0.0.10 and, on 127.0.0.2-4, an ecmta per node (bootstrapped with
#    eccfg) and an `eccfg pull --watch` beside it;
# 6. sends mail to every node with swaks; it is delivered through the MX to the sink;
# 7. shows the cluster from the manager: membership, `broadcast summary`, aggregated logs;
# 8. commits a config change on the manager (a new SMTP banner) and times how long until every
#    node answers with it: validated, swapped atomically and reloaded without a restart;
# 9. DuraVIP: when run as root, a second small cluster in network namespaces (198.18.0.0/24,
#    scripts/duravip-demo.py) shows a virtual IP move off a node killed with -9 and come back
#    when it restarts; otherwise it says why it skipped that step.
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
world_ip=127.0.0.20
smtp_port=2525

ecmta=$build/mta/daemon/ecmta
ec_conf=$build/common/tools/ec_conf
ec_console=$build/mta/console/ec_console
ecconfigd=$build/ecconfigd/ecconfigd
eccfg=$build/eccfg/eccfg
eccmgr=$build/manager/eccmgr
keygen=$build/msgc/ec_msgc_keygen
for b in "$ecmta" "$ec_conf" "$ec_console" "$ecconfigd" "$eccfg" "$eccmgr" "$keygen"; do
  [ -x "$b" ] || { echo "local-cluster: $b is missing; build first" >&2; exit 1; }
done

# The shipped conf runs the daemons as ecuser (Security { user }): as root, make sure the
# account exists, and run the node-side eccfg watchers as it too (they write what ecmta owns).
as_ecuser=()
if [ "$(id -u)" = 0 ]; then
  bash "$src/scripts/install-user.sh" >/dev/null
  as_ecuser=(runuser -u ecuser --)
fi

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
# ecconfigd has no config of its own: Security comes from the file --config names.
echo 'Security { user = "ecuser" }' >"$dir/manager/ecconfigd-security.conf"
"$ecconfigd" --root "$dir/manager" --seed "$src/conf" --listen "$manager_ip" --port 2027 \
  --config "$dir/manager/ecconfigd-security.conf" \
  --foreground --log-file "$dir/manager/ecconfigd.log" &
record $!
state=$dir/manager/ecconfigd
wait_for 20 "ecconfigd" test -s "$state/server.crt"
wait_for 20 "ecconfigd's port" bash -c "exec 3<>/dev/tcp/$manager_ip/2027"
boot_args=(--repo "$manager_ip:2027" --cert "$state/server.crt" --secret-file "$state/cluster.secret")
admin=(--username admin --password-file "$dir/manager/admin.password")

step "3. the outside world, on loopback: a DNS server and a receiving MTA for example.net"
# dnsmasq answers example.net's MX (mx.example.net = $world_ip); Postfix's smtp-sink takes the
# mail there. The nodes ask only this nameserver, so nothing leaves 127.0.0.0/8.
mkdir -p "$dir/world/sink"
dnsmasq --no-daemon --port=5300 --listen-address="$world_ip" --bind-interfaces --no-resolv \
  --no-hosts --no-poll --conf-file=/dev/null --pid-file= --user=root \
  --mx-host=example.net,mx.example.net,10 --host-record=mx.example.net,$world_ip \
  >"$dir/world/dnsmasq.log" 2>&1 &
record $!
smtp-sink -u root -d "$dir/world/sink/%M." "$world_ip:2600" 64 >"$dir/world/sink.log" 2>&1 &
record $!
echo "nameserver $world_ip:5300" >"$dir/resolv.conf"
wait_for 10 "smtp-sink" bash -c "exec 3<>/dev/tcp/$world_ip/2600"
echo "example.net MX -> mx.example.net ($world_ip), smtp-sink on $world_ip:2600"

step "4. the operator's working copy on the manager: the bus and one ecelerity.conf per node"
"$eccfg" bootstrap --root "$dir/manager" --node-name manager "${boot_args[@]}"
mwc=$dir/manager/etc/conf
# The bus: every host with its loopback address, and each host's CURVE key pair (the secret
# stays on the host, the public half is committed so every peer knows every key).
peers="    manager = \"$manager_ip\""
for n in "${nodes[@]}"; do peers+=$'\n'"    $n = \"$(node_ip "$n")\""; done
/usr/bin/python3 -c '
import re, sys
path, peers = sys.argv[1], sys.argv[2]
text = open(path).read()
text = re.sub(r"peers = \[.*?\n  \]", lambda m: "peers = [\n" + peers + "\n  ]", text, count=1,
              flags=re.S)
open(path, "w").write(text)' "$mwc/global/msgc_server.conf" "$peers"
mkdir -p "$mwc/global/msgc_keys"
for h in manager "${nodes[@]}"; do
  mkdir -p "$dir/$h/etc"
  "$keygen" "$dir/$h/etc/msgc.key" "$mwc/global/msgc_keys/$h.pub" >/dev/null
done
for n in "${nodes[@]}"; do
  mkdir -p "$mwc/$n"
  # The shipped files, with this node's paths and addresses: on a real cluster each node has
  # its own host and the defaults (/opt/ecmta, port 25, *:4802) stand as shipped.
  for f in ecelerity.conf ecelerity-cluster.conf; do
    sed -e "s#/opt/ecmta#$dir/$n#g" \
        -e "s#Listen \":25\"#Listen \"$(node_ip "$n"):$smtp_port\"#" \
        -e "s#127.0.0.1:2025#$(node_ip "$n"):2025#" \
        -e "s#Listen \"\*:4802\"#Listen \"$(node_ip "$n"):4802\"#" \
        "$mwc/default/$f" >"$mwc/$n/$f"
  done
  # This one-host cluster's world: DNS above, and receivers on port 2600 instead of 25.
  printf '\nresolv_conf = "%s"\nremote_smtp_port = 2600\n' "$dir/resolv.conf" >>"$mwc/$n/ecelerity.conf"
done
mkdir -p "$mwc/manager"
sed -e "s#/opt/ecmta#$dir/manager#g" -e "s#127.0.0.1:2025#$manager_ip:2025#" \
  "$mwc/default/eccluster.conf" >"$mwc/manager/eccluster.conf"
echo "status_http_listen = \"$manager_ip:8081\"" >>"$mwc/manager/eccluster.conf"
"$eccfg" commit --root "$dir/manager" "${admin[@]}" --add-all \
  -m "local cluster: manager on $manager_ip, node1-3 on 127.0.0.2-4:$smtp_port"
"$eccfg" log --root "$dir/manager" --limit 3

step "5. eccmgr on $manager_ip; nodes: bootstrap, ecmta and a watching eccfg on each"
"$eccmgr" --root "$dir/manager" --node-name manager --config eccluster.conf --foreground \
  --log-file "$dir/manager/eccmgr.log" &
record $!
for n in "${nodes[@]}"; do
  root=$dir/$n
  mkdir -p "$root/log"
  # eccfg checks each new revision with this node's ecmta --check-config before switching to
  # it, and tells the running ecmta to reload after.
  "$eccfg" bootstrap --root "$root" --node-name "$n" "${boot_args[@]}" -q
  "$ecmta" --root "$root" --node-name "$n" --foreground --log-file "$root/log/ecmta.log" &
  record $!
done
for n in "${nodes[@]}"; do
  wait_for 20 "$n's listener" banner_of "$(node_ip "$n")"
  echo "$n: $(banner_of "$(node_ip "$n")")"
  # Once ecmta has given etc/ to its user: the watcher writes there as that user.
  "${as_ecuser[@]}" "$eccfg" pull --root "$dir/$n" --watch --wait 30 -q \
    >>"$dir/$n/log/eccfg-watch.log" 2>&1 &
  record $!
done
echo "-- the daemons dropped root (Security in the shipped conf): user, pid, effective caps"
for pid in "${pids[@]}"; do
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
  case $comm in ecmta|eccmgr|ecconfigd)
    echo "$comm $pid: $(ps -o user= -p "$pid") $(grep CapEff "/proc/$pid/status")" ;;
  esac
done

step "6. mail: swaks sends two messages to every node; they are delivered to the sink"
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
wait_for 30 "delivery to the sink" bash -c "[ \$(ls $dir/world/sink | wc -l) -ge 6 ]"
echo "-- the sink received $(ls "$dir/world/sink" | wc -l) messages"
echo "-- node1 mainlog (R: received, D: delivered)"
cat "$dir/node1/log/mainlog.ec"

step "7. the cluster from the manager: membership, every node's summary, aggregated logs"
mgr_sock=$dir/manager/run/eccmgr.sock
wait_for 30 "the bus to converge" bash -c \
  "$ec_console $mgr_sock 'show cluster membership' | grep -qi stable"
"$ec_console" "$mgr_sock" "show cluster membership"
"$ec_console" "$mgr_sock" "broadcast summary" | grep -E '^(==|Node|Received|Delivered)' || true
wait_for 20 "node1's mainlog on the manager" bash -c \
  "$eccmgr logs tail --root $dir/manager --node-name manager --node node1 --log mainlog | grep -q '@D@'"
"$eccmgr" logs tail --root "$dir/manager" --node-name manager --log mainlog -n 2

step "8. a config change on the manager reaches every node"
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

step "9. DuraVIP: a virtual IP follows live nodes (network namespaces)"
/usr/bin/python3 "$src/scripts/duravip-demo.py" "$build"

step "the cluster"
cat <<EOF
run directory: $dir
  send mail:    swaks --server 127.0.0.2 --port $smtp_port --to someone@example.net
  console:      $ec_console $dir/node1/run/ec_console.sock summary
  the cluster:  $ec_console $dir/manager/run/eccmgr.sock 'broadcast summary'
                curl http://$manager_ip:8081/metrics
  all logs:     $eccmgr logs tail -f --root $dir/manager --node-name manager
  change conf:  edit $mwc/node1/ecelerity.conf, then
                $eccfg commit --root $dir/manager ${admin[*]} -m 'why'
  node state:   $eccfg status --root $dir/node1 ; git -C $dir/node1/etc/conf log --oneline
EOF
if [ "${EC_DEMO_KEEP:-0}" = 1 ]; then
  echo "EC_DEMO_KEEP=1: the cluster keeps running; PIDs in $dir/pids"
else
  echo "stopping the cluster (EC_DEMO_KEEP=1 leaves it running)"
fi
