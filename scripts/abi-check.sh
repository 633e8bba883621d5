#!/usr/bin/env bash
# Compares the ABI of a built libcrosscut.so with the committed baseline for its SONAME and
# SDK ABI version (packaging/abi/<soname>-sdk<N>.abi.xz), with abigail-tools.
#
#   scripts/abi-check.sh BUILD_DIR            fail on an incompatible change
#   scripts/abi-check.sh BUILD_DIR --update   write the baseline (after a SONAME or SDK bump,
#                                             or to take in compatible additions)
#
# An incompatible change (a removed symbol, a changed layout or signature) needs a SONAME or
# SDK ABI bump, and so a new baseline: without one, this fails.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
build="$(realpath "${1:?usage: abi-check.sh BUILD_DIR [--update]}")"
lib="$build/host/libcrosscut.so"
[ -f "$lib" ] || { echo "abi-check: $lib not found (build first)" >&2; exit 1; }
soname="$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')"
sdk="$(sed -n 's/^#define CROSSCUT_SDK_ABI_VERSION \([0-9]*\)$/\1/p' \
  "$repo/sdk/include/crosscut/sdk/abi.hpp")"
baseline="$repo/packaging/abi/$soname-sdk$sdk.abi.xz"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
headers=(--headers-dir "$repo/host/include" --headers-dir "$repo/sdk/include")

if [ "${2:-}" = "--update" ]; then
  abidw "${headers[@]}" --drop-private-types --no-show-locs --drop-undefined-syms \
    --no-corpus-path --type-id-style hash --out-file "$tmp/abi.xml" "$lib"
  mkdir -p "$(dirname "$baseline")"
  xz -9 -c "$tmp/abi.xml" >"$baseline"
  echo "abi-check: wrote ${baseline#"$repo"/}"
  exit 0
fi

if [ ! -f "$baseline" ]; then
  echo "abi-check: no baseline for $soname with SDK ABI $sdk in packaging/abi/;" \
    "after a deliberate bump, write one: scripts/abi-check.sh BUILD_DIR --update" >&2
  exit 1
fi
xz -dc "$baseline" >"$tmp/baseline.xml"
set +e
abidiff --drop-private-types --headers-dir2 "$repo/host/include" \
  --headers-dir2 "$repo/sdk/include" "$tmp/baseline.xml" "$lib" >"$tmp/report" 2>&1
rc=$?
set -e
if (( rc & 8 )); then
  echo "abi-check: incompatible ABI change in $soname without a SONAME or SDK ABI bump:" >&2
  cat "$tmp/report" >&2
  exit 1
fi
if (( rc & 3 )); then
  echo "abi-check: abidiff failed (exit $rc):" >&2
  cat "$tmp/report" >&2
  exit 1
fi
if (( rc & 4 )); then
  echo "abi-check: compatible additions since the baseline (refresh it with --update):"
  head -20 "$tmp/report"
fi
echo "abi-check: $soname (SDK ABI $sdk) keeps the ABI of ${baseline#"$repo"/}"
