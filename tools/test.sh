#!/usr/bin/env bash
# Installs missing packages, builds the ci preset (warnings as errors) and runs every test:
# unit tests, gradient checks, CLI checks and the clang-format check. GPU tests skip with a
# reason where no GPU is present. Extra arguments go to ctest (e.g. -R Conv2d).
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/bootstrap.sh
cmake --preset ci >/dev/null
cmake --build --preset ci
ctest --preset ci "$@"
