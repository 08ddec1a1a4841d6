#!/usr/bin/env bash
# Installs missing packages, builds the ci preset (warnings as errors) and runs every test:
# unit tests, gradient checks, CLI checks and the clang-format check. GPU tests skip with a
# reason where no GPU is present. Extra arguments go to ctest (e.g. -R Conv2d).
#
# Then the sanitizer pass: the asan preset (AddressSanitizer + UndefinedBehaviorSanitizer with
# leak checks, CPU only, -O1) builds and runs the core, ops, data, weights, fuzz-corpus and CLI
# tests (the training, attack and experiment tests are left to the ci pass: too slow under the
# sanitizers). RP_SKIP_ASAN=1 skips it, e.g. for a quick filtered run.
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/bootstrap.sh
cmake --preset ci >/dev/null
cmake --build --preset ci
ctest --preset ci "$@"
if [[ "${RP_SKIP_ASAN:-0}" != 1 ]]; then
  echo "== the sanitizer pass (asan preset) =="
  cmake --preset asan >/dev/null
  cmake --build --preset asan
  ctest --preset asan
fi
