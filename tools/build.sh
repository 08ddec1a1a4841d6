#!/usr/bin/env bash
# Installs missing packages, configures and builds one CMake preset (default: release).
# Binaries land in build/<preset>/bin. Usage: tools/build.sh [debug|release|ci]
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
./tools/bootstrap.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
