#!/usr/bin/env bash
# Builds the DEB and RPM packages and checks them as a user would meet them, without
# installing anything into the system: package names and contents, dependencies, conffiles,
# lintian; then, from the unpacked packages alone, the host runs, the default configuration
# validates, and the example plugin builds against crosscut-dev, loads in the host and
# validates in a configuration that names its rule and its handler.
#
#   scripts/package-check.sh [WORK_DIR]      (default: build-packages)
#
# DEB and RPM need different library folders (lib/<multiarch> vs lib64), which are compiled
# into the host, so each format gets its own build tree under WORK_DIR.
# Needs (Debian packages): cmake ninja-build pkg-config g++ dpkg-dev file lintian rpm rpm2cpio cpio
# libgtest-dev, plus the build dependencies of crosscut.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(realpath -m "${1:-$repo/build-packages}")"
jobs="${CROSSCUT_PACKAGE_JOBS:-2}"

step() { printf '== %s\n' "$*"; }
fail() {
  printf 'package-check: %s\n' "$*" >&2
  exit 1
}

for tool in cmake ninja pkg-config g++ cpack dpkg-deb dpkg-shlibdeps file lintian rpmbuild rpm rpm2cpio cpio; do
  command -v "$tool" >/dev/null || fail "$tool is missing (see the header of this script)"
done

version="$(sed -n 's/^project(crosscut VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")"
[ -n "$version" ] || fail "cannot read the version from project() in CMakeLists.txt"
deb_arch="$(dpkg --print-architecture)"
rpm_arch="$(uname -m)"
deb_libdir="usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)"
rpm_libdir="usr/lib64"

# --- build and package ------------------------------------------------------------------
build_packages() {  # format generator libdir-option...
  local format="$1" generator="$2"
  shift 2
  local tree="$work/$format/build" out="$work/$format/packages"
  step "build ($format)"
  # -Werror as in the main CI build, so that both share their compiler cache.
  cmake -S "$repo" -B "$tree" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCROSSCUT_WERROR=ON \
    -DCMAKE_INSTALL_PREFIX=/usr -DCROSSCUT_BUILD_TESTS=OFF -DCROSSCUT_BUILD_BENCH=OFF \
    -DCROSSCUT_PACKAGING=ON "$@" >/dev/null
  cmake --build "$tree" -j"$jobs" >/dev/null
  step "package ($generator)"
  rm -rf "$out"
  mkdir -p "$out"
  (cd "$tree" && cpack -G "$generator" -B "$out" >"$work/$format/cpack.log" 2>&1) ||
    { cat "$work/$format/cpack.log" >&2; fail "cpack -G $generator failed"; }
}

mkdir -p "$work"
build_packages deb DEB
build_packages rpm RPM -DCMAKE_INSTALL_LIBDIR=lib64 -DCROSSCUT_PYTHON_SITE_DIR=lib/python3.9/site-packages
deb_out="$work/deb/packages"
rpm_out="$work/rpm/packages"

packages=(crosscut crosscut-redis crosscut-kafka crosscut-dev python3-crosscut)
# The Python client is architecture-independent.
deb_file() {
  local arch="$deb_arch"
  [ "$1" = python3-crosscut ] && arch=all
  echo "$deb_out/${1}_${version}_${arch}.deb"
}
rpm_file() {
  local arch="$rpm_arch"
  [ "$1" = python3-crosscut ] && arch=noarch
  echo "$rpm_out/${1}-${version}-1.${arch}.rpm"
}
# Where each format puts the Python package (relative to /).
python_site() { if [ "$1" = deb ]; then echo usr/lib/python3/dist-packages; else echo usr/lib/python3.9/site-packages; fi; }

step "package names"
for p in "${packages[@]}"; do
  [ -f "$(deb_file "$p")" ] || fail "missing $(basename "$(deb_file "$p")") in $deb_out"
  [ -f "$(rpm_file "$p")" ] || fail "missing $(basename "$(rpm_file "$p")") in $rpm_out"
done
[ "$(find "$deb_out" -maxdepth 1 -name '*.deb' | wc -l)" -eq 5 ] || fail "expected exactly 5 DEBs"
[ "$(find "$rpm_out" -maxdepth 1 -name '*.rpm' | wc -l)" -eq 5 ] || fail "expected exactly 5 RPMs"

# --- contents ---------------------------------------------------------------------------
# Files each package must hold, relative to /, with LIBDIR for the format's library folder and
# PYSITE for its Python package folder.
expected_files() {
  case "$1" in
    crosscut)
      echo usr/bin/crosscut LIBDIR/libcrosscut.so.1 etc/crosscut/crosscut.yaml \
        usr/lib/systemd/system/crosscut.service usr/share/doc/crosscut/copyright \
        usr/share/man/man1/crosscut.1.gz
      for plugin in console_log file_log memory_breaker stdio_sink local_inputs yaml_rules; do
        echo "LIBDIR/crosscut/plugins/libcrosscut-$plugin.so"
      done
      ;;
    crosscut-redis) echo LIBDIR/crosscut/plugins/libcrosscut-redis_breaker.so ;;
    crosscut-kafka)
      echo LIBDIR/crosscut/plugins/libcrosscut-kafka.so LIBDIR/crosscut/plugins/libcrosscut-record_log.so
      ;;
    crosscut-dev)
      echo usr/include/crosscut/sdk/sdk.hpp usr/include/crosscut/sdk/testing/breaker_conformance.hpp \
        usr/include/crosscut/runtime.hpp LIBDIR/libcrosscut.so \
        LIBDIR/cmake/crosscut/crosscutConfig.cmake LIBDIR/cmake/crosscut/crosscutConfigVersion.cmake \
        LIBDIR/pkgconfig/crosscut-sdk.pc usr/share/crosscut/examples/vendor_rules/CMakeLists.txt
      ;;
    python3-crosscut)
      echo PYSITE/crosscut/__init__.py PYSITE/crosscut/aio.py usr/share/doc/python3-crosscut/copyright \
        usr/share/doc/python3-crosscut/examples/collector.py
      ;;
  esac
}

check_contents() {  # format package listing-file libdir python-site
  local listing="$3" libdir="$4" pysite="$5" f
  for f in $(expected_files "$2"); do
    f="${f/LIBDIR/$libdir}"
    f="${f/PYSITE/$pysite}"
    grep -qx "/$f" "$listing" || fail "$1 package $2 lacks /$f"
  done
}

step "contents and dependencies (DEB)"
for p in "${packages[@]}"; do
  dpkg-deb -c "$(deb_file "$p")" | awk '{print $NF}' | sed 's|^\./|/|; s|/$||' >"$work/deb/$p.files"
  # Symlinks list as "name -> target".
  dpkg-deb -c "$(deb_file "$p")" | awk '$1 ~ /^l/ {print $(NF-2)}' | sed 's|^\./|/|' >>"$work/deb/$p.files"
  check_contents DEB "$p" "$work/deb/$p.files" "$deb_libdir" "$(python_site deb)"
done
dpkg-deb -f "$(deb_file python3-crosscut)" Depends | grep -q "python3 (>= 3.9)" ||
  fail "DEB python3-crosscut does not depend on python3 (>= 3.9)"
for p in crosscut-redis crosscut-kafka crosscut-dev; do
  dpkg-deb -f "$(deb_file "$p")" Depends | grep -q "crosscut (= $version)" ||
    fail "DEB $p does not depend on crosscut (= $version)"
done
dpkg-deb -f "$(deb_file crosscut-redis)" Depends | grep -q libhiredis ||
  fail "DEB crosscut-redis lacks its hiredis dependency (shlibdeps)"
dpkg-deb -f "$(deb_file crosscut-kafka)" Depends | grep -q librdkafka ||
  fail "DEB crosscut-kafka lacks its librdkafka dependency (shlibdeps)"
dpkg-deb -f "$(deb_file crosscut)" Depends | grep -q libyaml-cpp ||
  fail "DEB crosscut lacks its yaml-cpp dependency (shlibdeps)"
control="$work/deb/control"
rm -rf "$control"
dpkg-deb -e "$(deb_file crosscut)" "$control"
grep -qx /etc/crosscut/crosscut.yaml "$control/conffiles" || fail "DEB crosscut: crosscut.yaml is not a conffile"
grep -q "adduser --system" "$control/postinst" || fail "DEB crosscut: postinst does not create the crosscut user"
grep -q "^libcrosscut 1 crosscut" "$control/shlibs" || fail "DEB crosscut: no shlibs entry for libcrosscut.so.1"

step "contents and dependencies (RPM)"
for p in "${packages[@]}"; do
  rpm -qpl "$(rpm_file "$p")" 2>/dev/null >"$work/rpm/$p.files"
  check_contents RPM "$p" "$work/rpm/$p.files" "$rpm_libdir" "$(python_site rpm)"
  grep -q "^/usr/lib/x86_64-linux-gnu" "$work/rpm/$p.files" && fail "RPM $p uses the Debian library folder"
done
for p in crosscut-redis crosscut-kafka crosscut-dev; do
  rpm -qp --requires "$(rpm_file "$p")" 2>/dev/null | grep -qx "crosscut = $version" ||
    fail "RPM $p does not require crosscut = $version"
done
rpm -qp --requires "$(rpm_file python3-crosscut)" 2>/dev/null | grep -qx "python3 >= 3.9" ||
  fail "RPM python3-crosscut does not require python3 >= 3.9"
rpm -qp --requires "$(rpm_file crosscut-redis)" 2>/dev/null | grep -q "libhiredis" ||
  fail "RPM crosscut-redis lacks its hiredis requirement (autoreq)"
rpm -qp --requires "$(rpm_file crosscut-kafka)" 2>/dev/null | grep -q "librdkafka" ||
  fail "RPM crosscut-kafka lacks its librdkafka requirement (autoreq)"
rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$(rpm_file crosscut)" 2>/dev/null |
  grep -qx "cn /etc/crosscut/crosscut.yaml" || fail "RPM crosscut: crosscut.yaml is not %config(noreplace)"
rpm -qp --scripts "$(rpm_file crosscut)" 2>/dev/null | grep -q "useradd -r" ||
  fail "RPM crosscut: %pre does not create the crosscut user"

# --- lintian ----------------------------------------------------------------------------
step "lintian"
for o in "$repo"/packaging/lintian/*; do
  # An override must follow a comment that gives its reason.
  awk -v file="$o" '
    /^#/ { reason = 1; next }
    /^[[:space:]]*$/ { reason = 0; next }
    !reason { printf "package-check: %s: override without a reason: %s\n", file, $0; bad = 1 }
    END { exit bad }' "$o" || exit 1
done
if ! lintian --fail-on error "$deb_out"/*.deb >"$work/deb/lintian.txt" 2>&1; then
  grep -v 'running with root privileges' "$work/deb/lintian.txt" >&2
  fail "lintian reports errors (above)"
fi
grep -v 'running with root privileges' "$work/deb/lintian.txt" || true

# --- the unpacked packages at work --------------------------------------------------------
unpack_deb() {  # root
  local p
  for p in "${packages[@]}"; do dpkg-deb -x "$(deb_file "$p")" "$1"; done
}
unpack_rpm() {  # root
  local p
  for p in "${packages[@]}"; do (cd "$1" && rpm2cpio "$(rpm_file "$p")" | cpio -idm --quiet); done
}

# The unpacked host lives under ROOT rather than /usr: point the loader at its library and
# the host at its plugin folder. (Installed, both are found without configuration.)
host() {  # root libdir args...
  local root="$1" libdir="$2"
  shift 2
  LD_LIBRARY_PATH="$root/$libdir" CROSSCUT_PLUGIN_PATH="$root/$libdir/crosscut/plugins" \
    "$root/usr/bin/crosscut" "$@"
}

# A configuration that names the example plugin's rule and handler.
write_example_config() {  # file ledger
  cat >"$1" <<EOF
crosscut: 1
service: {name: package-check}
logging:
  sinks: [{type: console, stream: stderr}]
errors:
  rules:
    - {type: vendor_code, options: {codes: [VND-429], only_kind: ws_connection}}
handlers:
  - {type: error_ledger, on: [error], options: {path: "$2"}}
EOF
}

check_root() {  # format root libdir [cmake-option...]
  local format="$1" root="$2" libdir="$3"
  shift 3
  local out="$work/$format"
  step "unpacked host ($format)"
  host "$root" "$libdir" version | grep -q "^crosscut $version (SDK ABI " ||
    fail "$format: crosscut version does not print $version and the SDK ABI"
  # Without CROSSCUT_PLUGIN_PATH the host searches the install default, /usr/<libdir>/...:
  # empty here (nothing is installed), so it says where it looked.
  env -u CROSSCUT_PLUGIN_PATH LD_LIBRARY_PATH="$root/$libdir" "$root/usr/bin/crosscut" plugins >"$out/default-search.txt" 2>&1 || true
  grep -q "/$libdir/crosscut/plugins" "$out/default-search.txt" ||
    fail "$format: the host does not search /$libdir/crosscut/plugins by default: $(cat "$out/default-search.txt")"
  host "$root" "$libdir" plugins >"$out/plugins.txt"
  local plugin
  for plugin in console_log file_log memory_breaker stdio_sink local_inputs yaml_rules redis_breaker kafka record_log; do
    grep -q "^$plugin " "$out/plugins.txt" || fail "$format: plugin $plugin is not found by the unpacked host"
  done
  host "$root" "$libdir" validate -c "$root/etc/crosscut/crosscut.yaml" >/dev/null ||
    fail "$format: the packaged /etc/crosscut/crosscut.yaml does not validate"
  if command -v systemd-analyze >/dev/null; then
    # The unit's programs are not installed on this machine: report every other problem.
    local problems
    problems="$(systemd-analyze verify --man=no "$root/usr/lib/systemd/system/crosscut.service" 2>&1 |
      grep -v -e 'is not executable' -e '^$' || true)"
    [ -z "$problems" ] || fail "$format: crosscut.service: $problems"
    # The hardening: an exposure level of 2.0 or less.
    local exposure
    exposure="$(systemd-analyze security --offline=true "$root/usr/lib/systemd/system/crosscut.service" 2>&1 |
      sed -n 's/.*Overall exposure level for crosscut.service: \([0-9.]*\).*/\1/p')"
    [ -n "$exposure" ] || fail "$format: systemd-analyze security did not rate crosscut.service"
    awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }' ||
      fail "$format: crosscut.service exposure level $exposure is above 2.0"
    echo "crosscut.service exposure level: $exposure"
  fi

  step "example plugin against the unpacked crosscut-dev ($format)"
  local example="$out/example"
  rm -rf "$example" "$example-src" "$out/pc-build"
  mkdir -p "$out/pc-build"
  cp -r "$root/usr/share/crosscut/examples/vendor_rules" "$example-src"
  # Without CMake: the pkg-config file alone gives the include path.
  local pc_dir="$root/$libdir/pkgconfig"
  PKG_CONFIG_PATH="$pc_dir" PKG_CONFIG_SYSROOT_DIR="$root" pkg-config --cflags crosscut-sdk |
    grep -q -- "-I$root/usr/include" || fail "$format: crosscut-sdk.pc does not give the SDK include path"
  # shellcheck disable=SC2046 # pkg-config prints several flags
  g++ -std=c++20 -O1 -fPIC -shared -fvisibility=hidden -Wl,--no-undefined -Werror \
    $(PKG_CONFIG_PATH="$pc_dir" PKG_CONFIG_SYSROOT_DIR="$root" pkg-config --cflags crosscut-sdk) \
    "$example-src"/vendor_code_rule.cpp "$example-src"/error_ledger_handler.cpp "$example-src"/plugin.cpp \
    -o "$out/pc-build/libcrosscut-vendor_rules.so" 2>&1 || fail "$format: the pkg-config build failed"
  host "$root" "$libdir" plugins --path "$out/pc-build" | grep -q "^vendor_rules .*$out/pc-build" ||
    fail "$format: the pkg-config build of the example does not load"

  cmake -S "$example-src" -B "$example" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$root/usr" -DCMAKE_CXX_FLAGS="-Werror" \
    -DCMAKE_EXPORT_COMPILE_COMMANDS=ON "$@" >/dev/null
  grep -q "^crosscut_DIR:PATH=$root/" "$example/CMakeCache.txt" ||
    fail "$format: the example found crosscut outside the unpacked packages"
  grep -q -e "$repo/sdk" -e "$repo/host" -e "$repo/plugins" "$example/compile_commands.json" &&
    fail "$format: the example's build refers to the source tree"
  cmake --build "$example" -j"$jobs" >/dev/null
  ctest --test-dir "$example" --output-on-failure >/dev/null || fail "$format: the example's tests fail"
  cmake --install "$example" >/dev/null
  [ -f "$root/$libdir/crosscut/plugins/libcrosscut-vendor_rules.so" ] ||
    fail "$format: the example did not install into the plugin folder"

  rm -rf "$example-src"

  step "example plugin in the unpacked host ($format)"
  host "$root" "$libdir" plugins --path "$root/$libdir/crosscut/plugins" >"$out/plugins.txt"
  grep -q "exception_rule/vendor_code" "$out/plugins.txt" || fail "$format: rule vendor_code is not loaded"
  grep -q "event_handler/error_ledger" "$out/plugins.txt" || fail "$format: handler error_ledger is not loaded"
  write_example_config "$out/example.yaml" "$out/ledger.log"
  host "$root" "$libdir" validate -c "$out/example.yaml" >/dev/null ||
    fail "$format: a configuration naming vendor_code and error_ledger does not validate"
  # The rule's own schema is in force: a bad option is a configuration error (exit 2).
  sed 's/only_kind: ws_connection/severity: loud/' "$out/example.yaml" >"$out/bad.yaml"
  local rc=0
  host "$root" "$libdir" validate -c "$out/bad.yaml" 2>"$out/bad.err" >/dev/null || rc=$?
  if [ "$rc" -ne 2 ] || ! grep -q "severity" "$out/bad.err"; then
    fail "$format: a bad vendor_code option was not reported as a configuration error"
  fi

  check_rule_reaches_dto "$root" "$libdir" "$out"
  check_python_client "$root" "$libdir" "$out" "$(python_site "$format")"
}

# ---------------------------------------------------------------------------------------
# check_python_client: the unpacked Python client, against the unpacked host as an agent: a
# breaker refused after failures, counts acknowledged by a flush, and the counts published.
# ---------------------------------------------------------------------------------------
check_python_client() {  # root libdir out python-site
  local root="$1" libdir="$2" out="$3" pysite="$4"
  step "Python client against the unpacked agent"
  local sock="$out/events.sock"
  rm -f "$sock"
  cat >"$out/sidecar.yaml" <<EOF
sinks: {out: {type: stdout}}
metrics: {sink: out}
breakers: {defaults: {failure_threshold: 2}}
inputs: [{type: unix, path: "$sock"}]
EOF
  # Started directly, not through host(): a backgrounded function is a subshell, and the
  # signal below must reach the agent itself.
  LD_LIBRARY_PATH="$root/$libdir" CROSSCUT_PLUGIN_PATH="$root/$libdir/crosscut/plugins" \
    "$root/usr/bin/crosscut" run -c "$out/sidecar.yaml" >"$out/sidecar.out" 2>"$out/sidecar.err" &
  local agent=$!
  PYTHONPATH="$root/$pysite" PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 - "$sock" "$version" <<'EOF' ||
import os, sys, time
import crosscut
sock, version = sys.argv[1], sys.argv[2]
assert crosscut.__file__.startswith(os.environ["PYTHONPATH"]), crosscut.__file__
assert crosscut.__version__ == version, crosscut.__version__
deadline = time.monotonic() + 30
while not os.path.exists(sock) and time.monotonic() < deadline:
    time.sleep(0.01)
with crosscut.Client(sock) as c:
    b = c.breaker("upbit/korea/ticker")
    assert b.allow() and b.state() == "CLOSED"
    b.record_failure()
    b.record_failure()
    assert not b.allow() and b.state() == "OPEN"
    for _ in range(1000):
        c.count(("upbit", "korea", "ticker"), "BTC", ts_ms=1737619200000)
    c.flush()
EOF
    { kill "$agent" 2>/dev/null; cat "$out/sidecar.err" >&2; fail "the Python client does not work against the agent"; }
  kill -TERM "$agent"
  wait "$agent" || { cat "$out/sidecar.err" >&2; fail "the agent did not stop cleanly"; }
  grep -q '"total":1000' "$out/sidecar.out" || fail "the 1000 counts of the Python client were not published"
}

# ---------------------------------------------------------------------------------------
# check_rule_reaches_dto: the example rule changes a published error DTO and the handler sees
# the error, through `crosscut run` with a stdin input.
# ---------------------------------------------------------------------------------------
check_rule_reaches_dto() {  # root libdir out
  local root="$1" libdir="$2" out="$3"
  step "example rule in the error dispatcher"
  local ledger="$out/dispatch-ledger.log"
  rm -f "$ledger"
  cat >"$out/dispatch.yaml" <<EOF
crosscut: 1
service: {name: package-check}
sinks:
  out: {type: stdout}
errors:
  sink: out
  topic: ws.error
  rules:
    - {type: vendor_code, options: {codes: [VND-429], only_kind: ws_connection}}
handlers:
  - {type: error_ledger, on: [error], options: {path: "$ledger"}}
inputs:
  - {type: stdin}
EOF
  local target='"target":{"exchange":"upbit","region":"korea","request_type":"ticker"}'
  printf '%s\n' \
    "{\"event\":\"error\",\"kind\":\"ws_connection\",\"exception\":{\"type\":\"HttpError\",\"message\":\"VND-429 slow down\"},$target}" \
    "{\"event\":\"error\",\"kind\":\"ws_connection\",\"exception\":{\"type\":\"ConnectionError\",\"message\":\"refused\"},$target}" |
    host "$root" "$libdir" run -c "$out/dispatch.yaml" >"$out/dispatch.out" 2>"$out/dispatch.err" ||
    { cat "$out/dispatch.err" >&2; fail "crosscut run failed"; }
  /usr/bin/python3 - "$out/dispatch.out" <<'EOF' || fail "the rule's decision is not in the published DTOs"
import json, sys
dtos = [json.loads(line)["value"] for line in open(sys.argv[1]) if line.strip()]
by_message = {d["exception"]["message"]: d for d in dtos}
hit, miss = by_message["VND-429 slow down"], by_message["refused"]
assert (hit["kind"], hit["severity"], hit["rule"]) == ("rate_limited", "warning", "vendor_code"), hit
assert (miss["kind"], miss["severity"]) == ("ws_connection", "error"), miss
EOF
  [ "$(grep -c 'upbit/korea/ticker' "$ledger")" -eq 2 ] || fail "the error_ledger handler did not record both errors"
}

deb_root="$work/deb/root"
rpm_root="$work/rpm/root"
rm -rf "$deb_root" "$rpm_root"
mkdir -p "$deb_root" "$rpm_root"
unpack_deb "$deb_root"
unpack_rpm "$rpm_root"
check_root deb "$deb_root" "$deb_libdir"
# CMake on an RPM distribution searches lib64; CMake on Debian turns that off (Linux.cmake).
echo 'set_property(GLOBAL PROPERTY FIND_LIBRARY_USE_LIB64_PATHS TRUE)' >"$work/rpm/lib64-search.cmake"
check_root rpm "$rpm_root" "$rpm_libdir" -DCMAKE_PROJECT_INCLUDE="$work/rpm/lib64-search.cmake"

step "packages OK:"
find "$deb_out" "$rpm_out" -maxdepth 1 \( -name '*.deb' -o -name '*.rpm' \) -printf '   %f\n' | sort
