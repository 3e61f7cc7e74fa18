#!/usr/bin/env bash
# The README's main command: installs what is needed, builds the release tree, and runs the
# main job, scripts/local-cluster.sh: the whole cluster on loopback from the shipped conf/
# (ecconfigd, eccmgr, three ecmta nodes, a DNS server and a sink), mail flowing through it, and
# a config change reaching every node.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$(nproc)"
exec bash scripts/local-cluster.sh build/release
