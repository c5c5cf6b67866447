#!/usr/bin/env bash
# Builds yq-hw and its tests with AddressSanitizer + UndefinedBehaviorSanitizer
# (-DYQ_SANITIZE=ON, RelWithDebInfo, in build-asan/) and runs the unit tier
# under them: any report (out-of-bounds access, use after free, leak,
# undefined behaviour) aborts its test and fails the script.
#   scripts/sanitize.sh [CTEST_ARGS ...]     (default: -L unit -j 2)
# LibTorch, libzip, libjpeg and the other Debian libraries are not
# instrumented: only yq-hw's own code is checked.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build-asan
cmake -S . -B "$build" -DYQ_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build "$build" -j 2  # yq-hw, the tests and the fuzz regression replays
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(-L unit -j 2)
ctest --test-dir "$build" --output-on-failure "${args[@]}"
