#!/usr/bin/env bash
# Cluster-wide outbound limits on loopback: the sink's peak concurrency against
# cluster_max_outbound_connections (full load, and kill -9 of a node mid-load), replication lag
# p50/p99 from `cluster shared stats`, ecmta CPU with limits+Replicate against without, and the
# throttle "300/60" across 3 nodes; for 3 and 10 nodes (eccmgr on 127.0.0.100, nodes on
# 127.0.0.2.., the sink on 127.0.0.1).
#
#   bench/cluster/run.sh [BUILD_DIR] [--sizes 3,10] [--limit 12] [--quick] [--json F]
#
# Needs root (the daemons keep root in their temp roots, as in the integration tests). See
# bench/cluster/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=build/release
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then build=$1; shift; fi
for bin in mta/daemon/ecmta manager/eccmgr mta/console/ec_console msgc/ec_msgc_keygen; do
  [ -x "$build/$bin" ] || { echo "no $build/$bin: build first" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "needs root (as the integration tests)" >&2; exit 1; }
exec timeout --signal=INT --kill-after=30 1500 /usr/bin/python3 bench/cluster/limits_bench.py "$build" "$@"
