#!/usr/bin/env bash
# Runs every libFuzzer target of a build configured with -DCROSSCUT_FUZZ=ON: first each saved
# reproducer in tests/fuzz/regressions/<target>/ once, then fuzzing for SECONDS, starting from a
# copy of the seed corpus tests/fuzz/corpus/<target>/ (the checkout is never written).
#
#   scripts/fuzz.sh BUILD_DIR SECONDS_PER_TARGET
#
# Fails (exit 1) on a crash, a sanitizer report, a leak, an input running longer than 10 s or
# the process growing past 2 GiB, naming the target and the input that did it; fuzzing inputs
# are kept in BUILD_DIR/fuzz-artifacts/<target>/. Extra libFuzzer flags for every run may be
# given in CROSSCUT_FUZZ_FLAGS (e.g. "-max_len=65536").
set -euo pipefail

if [ $# -ne 2 ] || ! [[ "$2" =~ ^[0-9]+$ ]] || [ "$2" -lt 1 ]; then
  echo "usage: $0 BUILD_DIR SECONDS_PER_TARGET" >&2
  exit 2
fi
repo="$(cd "$(dirname "$0")/.." && pwd)"
build="$(realpath -m "$1")"
seconds="$2"
bin_dir="$build/fuzz"
artifacts="$build/fuzz-artifacts"

targets=()
for f in "$bin_dir"/*; do
  [ -f "$f" ] && [ -x "$f" ] && targets+=("$f")
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz.sh: no fuzz targets in $bin_dir (configure with CXX=clang++ -DCROSSCUT_SANITIZE=address -DCROSSCUT_FUZZ=ON, then build)" >&2
  exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# shellcheck disable=SC2206
extra=(${CROSSCUT_FUZZ_FLAGS:-})
flags=(-rss_limit_mb=2048 -timeout=10 "${extra[@]}")
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

failed=()
# What libFuzzer said went wrong, from its log.
kind_of() {
  grep -m1 -oE "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer): [a-z-]+( [a-z-]+)?|runtime error:|ALARM: working on the last Unit|out-of-memory \([^)]*\)" "$1" ||
    echo "exit status $2"
}

for bin in "${targets[@]}"; do
  name="$(basename "$bin")"
  log="$work/$name.log"

  regressions="$repo/tests/fuzz/regressions/$name"
  inputs=()
  if [ -d "$regressions" ]; then
    for f in "$regressions"/*; do
      [ -f "$f" ] && inputs+=("$f")
    done
  fi
  if [ ${#inputs[@]} -gt 0 ]; then
    rc=0
    "$bin" "${flags[@]}" "${inputs[@]}" >"$log" 2>&1 || rc=$?
    if [ $rc -ne 0 ]; then
      input="$(grep -oE '^Running: .*' "$log" | tail -n1 | cut -d' ' -f2- || true)"
      tail -n 60 "$log"
      echo "fuzz.sh: $name: regression input ${input:-?} fails again: $(kind_of "$log" $rc)"
      echo "fuzz.sh: reproduce with: $bin $input"
      failed+=("$name")
      continue
    fi
    echo "fuzz.sh: $name: ${#inputs[@]} regression inputs pass"
  fi

  corpus="$work/corpus/$name"
  mkdir -p "$corpus" "$artifacts/$name"
  if [ -d "$repo/tests/fuzz/corpus/$name" ]; then
    cp -R "$repo/tests/fuzz/corpus/$name/." "$corpus/"
  fi
  before="$(find "$artifacts/$name" -type f | wc -l)"
  rc=0
  "$bin" "${flags[@]}" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$artifacts/$name/" "$corpus" >"$log" 2>&1 || rc=$?
  if [ $rc -ne 0 ]; then
    tail -n 80 "$log"
    saved="$(grep -oE "Test unit written to .*" "$log" | tail -n1 | cut -d' ' -f5- || true)"
    if [ -z "$saved" ] && [ "$(find "$artifacts/$name" -type f | wc -l)" -gt "$before" ]; then
      saved="$(find "$artifacts/$name" -type f -printf '%T@ %p\n' | sort -n | tail -n1 | cut -d' ' -f2-)"
    fi
    echo "fuzz.sh: $name: $(kind_of "$log" $rc); input: ${saved:-none saved (see the log above)}"
    [ -n "$saved" ] && echo "fuzz.sh: reproduce with: $bin $saved"
    failed+=("$name")
    continue
  fi
  done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n1 || true)"
  echo "fuzz.sh: $name: ${seconds}s, no findings: ${done_line:-$(tail -n1 "$log")}"
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: findings in: ${failed[*]}"
  exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets, no findings"
