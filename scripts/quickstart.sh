#!/usr/bin/env bash
# The main job on the embedded default (no servers): install, build, then run crosscut on
# configs/quickstart.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCROSSCUT_BUILD_BENCH=OFF >/dev/null
cmake --build build -j2 --target crosscut_cli all >/dev/null
export CROSSCUT_PLUGIN_PATH="$PWD/build/plugins"
build/bin/crosscut validate -c configs/quickstart.yaml
echo "--- a burst of failures against upbit/korea/ticker, replayed through the breaker simulator"
build/bin/crosscut breaker simulate -c configs/quickstart.yaml --key upbit/korea/ticker \
  < configs/samples/breaker-burst.ndjson
