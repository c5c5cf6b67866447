#!/usr/bin/env bash
# Installs every Debian package yq-hw needs (idempotent; run as root) and
# builds it in Release into ./build. With --bench it also installs what the
# benchmarks compare against (never needed by the product or its tests).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config
  libtorch-dev          # float model, checkpoint zip reader
  libeigen3-dev         # integer reference kernels
  libcli11-dev          # command line
  doctest-dev           # unit tests
  nlohmann-json3-dev    # JSON summaries, manifests, reports
  libssl-dev            # SHA-256 (libcrypto)
  libcpptoml-dev        # mixed-precision config files (TOML)
  libjpeg62-turbo-dev   # JPEG decoding: libjpeg-turbo, the reference's decoder (bit-identical pixels)
  libstb-dev            # PNG/BMP decoding, PNG writing, text for drawn boxes
  libzip-dev zlib1g-dev # checkpoint zip reading, every record's CRC-32 (crc32_z) and sizes checked
  clang libclang-rt-14-dev  # libFuzzer targets of the readers (scripts/fuzz.sh)
  verilator iverilog yosys  # RTL lint, simulation, resource estimate
  python3 python3-numpy     # the random-layer generator; the pycocotools cross-check of the mAP
  libplplot-dev             # report.html's charts (PLplot's SVG device)
  chromium                  # tests only: renders report.html headless and screenshots it
)
if [[ ${1:-} == --bench ]]; then
  packages+=(python3-torch)  # scripts/bench_speed.sh: Python torch, the speed peer
elif [[ $# -gt 0 ]]; then
  echo "usage: scripts/setup.sh [--bench]" >&2
  exit 2
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$(nproc)"
