#!/usr/bin/env bash
# The main job on the embedded default (no servers): install, build, then replay the bundled
# sample through the agent. Minute batches and error reports go to stdout, the log to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCROSSCUT_BUILD_TESTS=OFF \
  -DCROSSCUT_BUILD_BENCH=OFF >/dev/null
cmake --build build -j2 >/dev/null
export CROSSCUT_PLUGIN_PATH="$PWD/build/plugins"
build/bin/crosscut validate -c configs/quickstart.yaml >&2
build/bin/crosscut run -c configs/quickstart.yaml
