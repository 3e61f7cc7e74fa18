#!/usr/bin/env bash
# A private Postfix instance for benchmarks: its own config, queue and data directories under a
# scratch directory, one smtpd on a loopback address:port, never this machine's MTA.
# Durability is Postfix's default: cleanup fsyncs the queue file before smtpd answers 250.
#
#   postfix_instance.sh start DIR ADDR:PORT MODE [RELAYHOST]
#       MODE accept: every message is put on hold as it is queued, so it stays durable in the
#                    queue and is never delivered (acceptance only). qmgr keeps running: without
#                    it cleanup's trigger to qmgr stalls each message for a second;
#       MODE relay:  every message is relayed to RELAYHOST ([127.0.0.1]:port), as a smarthost.
#   postfix_instance.sh stop DIR
#   postfix_instance.sh queued DIR      -> number of queue files still in the queue
set -euo pipefail

cmd=$1 dir=$2

case "$cmd" in
start)
  listen=$3 mode=$4 relayhost=${5:-}
  mkdir -p "$dir/etc" "$dir/queue" "$dir/data"
  chown postfix "$dir/data"
  cp /etc/postfix/master.cf.proto "$dir/etc/master.cf"
  # Our one listener replaces the stock port-25 smtpd.
  sed -i -E 's/^smtp +inet .*/'"$listen"' inet n - y - - smtpd/' "$dir/etc/master.cf"
  cat > "$dir/etc/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
myhostname = bench.postfix.test
mydomain = postfix.test
myorigin = \$myhostname
mydestination =
inet_interfaces = ${listen%:*}
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_data_restrictions = $( [ "$mode" = accept ] && echo "check_client_access static:HOLD" )
relayhost = $relayhost
default_process_limit = 200
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtp_destination_concurrency_limit = 20
default_destination_concurrency_limit = 20
initial_destination_concurrency = 20
smtpd_banner = \$myhostname ESMTP
biff = no
# Neither side resolves the client address: there is no DNS on the benchmark box.
smtpd_peername_lookup = no
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
alias_maps =
alias_database =
local_recipient_maps =
smtp_tls_security_level = none
smtpd_tls_security_level = none
CONF
  postfix -c "$dir/etc" check >/dev/null 2>&1 || postfix -c "$dir/etc" check
  postfix -c "$dir/etc" start >/dev/null 2>&1
  # Wait (bounded) for the listener.
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/${listen%:*}/${listen##*:}") 2>/dev/null; then exit 0; fi
    sleep 0.1
  done
  echo "postfix_instance: smtpd on $listen did not come up" >&2
  exit 1
  ;;
stop)
  postfix -c "$dir/etc" stop >/dev/null 2>&1 || true
  ;;
queued)
  find "$dir/queue/incoming" "$dir/queue/active" "$dir/queue/deferred" "$dir/queue/hold" \
    "$dir/queue/maildrop" \
    -type f 2>/dev/null | wc -l
  ;;
*)
  echo "usage: $0 start|stop|queued DIR ..." >&2
  exit 2
  ;;
esac
