#!/usr/bin/env bash
# The README's main command: installs what is needed, builds the release tree, and runs the
# main job. What the main job shows grows with the project: today it validates the shipped
# configuration tree and prints it, resolved, as YAML, then shows where one option's value
# comes from (Momentum's `config eval`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$(nproc)"
exec bash scripts/local-cluster.sh build/release
