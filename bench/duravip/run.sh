#!/usr/bin/env bash
# DuraVIP takeover after kill -9: 20 kills of the VIP's owner for each of two timer sets (the
# shipped defaults, heartbeat 0.25 s / dead_timeout 1.5 s, and a fast set, 0.1 s / 0.6 s), on
# network namespaces made and removed by the run (addresses 198.18.0.0/24, never leaving them).
#
#   bench/duravip/run.sh [BUILD_DIR] [--kills N] [--sets default,fast] [--dry-run] [--json F]
#
# Needs root and `ip netns`. See bench/duravip/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=build/release
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then build=$1; shift; fi
for bin in mta/daemon/ecmta manager/eccmgr mta/console/ec_console msgc/ec_msgc_keygen; do
  [ -x "$build/$bin" ] || { echo "no $build/$bin: build first" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 1; }
exec timeout --signal=INT --kill-after=30 2400 /usr/bin/python3 bench/duravip/takeover.py "$build" "$@"
