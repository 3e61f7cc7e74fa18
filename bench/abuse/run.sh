#!/usr/bin/env bash
# Abuse bench: five attacks against one ecmta node each (fresh per attack) with the shipped
# limits of conf/default/ecelerity.conf. One line per attack; exit 1 if a bound is broken.
# Usage: bench/abuse/run.sh [BUILD_DIR] [attack ...]   (default build/release; attacks:
#        big bigstream noop idle auth dns, default all). Loopback only; about 1-2 minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/release}
shift || true
[ -x "$build/mta/daemon/ecmta" ] || { echo "no $build/mta/daemon/ecmta: build first" >&2; exit 2; }
exec timeout 900 /usr/bin/python3 bench/abuse/abuse.py "$build" "$@"
