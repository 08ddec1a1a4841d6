#!/usr/bin/env bash
# Installs the Debian 12 packages robustprior builds with, if any are missing. As root it runs
# apt-get itself; otherwise it prints the exact command to run and exits 1. The CUDA Toolkit and
# cuDNN are not Debian packages: when present (nvcc, cudnn.h) the CUDA backend is built too.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config git clang-format
  libeigen3-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libstb-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

install=(apt-get install -y --no-install-recommends "${missing[@]}")
if [ "$(id -u)" -ne 0 ]; then
  echo "robustprior needs these Debian packages: ${missing[*]}" >&2
  echo "Install them with:" >&2
  echo "  sudo apt-get update && sudo ${install[*]}" >&2
  exit 1
fi
echo "Installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet: update only when the install needs it.
if ! "${install[@]}" >/tmp/robustprior-apt.log 2>&1; then
  apt-get update >/tmp/robustprior-apt.log 2>&1
  "${install[@]}" >>/tmp/robustprior-apt.log 2>&1 ||
    { echo "apt-get failed; see /tmp/robustprior-apt.log" >&2; exit 1; }
fi
