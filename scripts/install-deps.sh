#!/usr/bin/env bash
# Installs everything crosscut needs to build, test and package on Debian 12.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake ninja-build pkg-config ccache git ca-certificates file \
  libboost-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libhiredis-dev librdkafka-dev \
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev rapidjson-dev libre2-dev \
  redis-server kcat rpm rpm2cpio cpio lintian dpkg-dev python3 clang-format clang-tidy \
  clang libclang-rt-14-dev abigail-tools xz-utils libcpp-httplib-dev libsystemd-dev prometheus \
  curl python3-pytest >/dev/null
