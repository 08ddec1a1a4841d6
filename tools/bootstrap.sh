#!/usr/bin/env bash
# Installs the Debian 12 packages robustprior builds with, if any are missing. As root it runs
# apt-get itself; otherwise it prints the exact command to run and exits 1. The CUDA Toolkit and
# cuDNN are not Debian packages: when present (nvcc, cudnn.h) the CUDA backend is built too, and
# this script then fetches NVIDIA's header-only cudnn-frontend (the cuDNN graph API in C++) into
# .deps/, which git ignores: it is a build input, never part of the tree.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  cmake ninja-build g++ pkg-config git clang-format
  libeigen3-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libstb-dev libpng-dev libjpeg62-turbo-dev
  libcairo2-dev fonts-dejavu-core libexpat1-dev
)

install_debian_packages() {
  local missing=() p
  for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0

  local install=(apt-get install -y --no-install-recommends "${missing[@]}")
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
}

# cudnn-frontend, pinned (its C++ API changes between releases; keep in step with
# cmake/RobustpriorCudnnFrontend.cmake, which looks for the headers at this path). PyPI's wheel
# carries them in include/ at its top; only those are unpacked. The headers are the same in
# every platform's wheel, so one platform's is asked for whatever this machine's Python is.
frontend_version=1.32.0
frontend_dir=.deps/cudnn-frontend-${frontend_version}

have_cuda_toolkit() {
  local nvcc=""
  nvcc=$(command -v nvcc || true)
  [ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc=/usr/local/cuda/bin/nvcc
  [ -n "$nvcc" ] || return 1
  local d
  for d in /usr/local/cuda/include /usr/include /usr/include/x86_64-linux-gnu /usr/local/include; do
    [ -f "$d/cudnn.h" ] && return 0
  done
  return 1
}

fetch_cudnn_frontend() {
  if [ -f "$frontend_dir/include/cudnn_frontend.h" ]; then
    return 0
  fi
  if ! command -v python3 >/dev/null || ! python3 -m pip --version >/dev/null 2>&1; then
    echo "bootstrap: fetching cudnn-frontend $frontend_version needs python3 with pip" \
         "(Debian: python3-pip); or unpack the include/ folder of the wheel" \
         "nvidia-cudnn-frontend==$frontend_version into $frontend_dir/" >&2
    exit 1
  fi
  local tmp
  tmp=$(mktemp -d)
  # shellcheck disable=SC2064  # expand $tmp now: it is local
  trap "rm -rf '$tmp'" EXIT
  echo "Fetching cudnn-frontend $frontend_version (headers only) into $frontend_dir"
  if ! python3 -m pip download --quiet --no-deps --only-binary=:all: \
       --platform manylinux_2_28_x86_64 --python-version 3.11 --implementation cp \
       "nvidia-cudnn-frontend==$frontend_version" -d "$tmp" >"$tmp/pip.log" 2>&1; then
    cat "$tmp/pip.log" >&2
    echo "bootstrap: pip could not download nvidia-cudnn-frontend==$frontend_version (no" \
         "network or no PyPI access?). Fetch the wheel elsewhere and unpack its include/" \
         "folder into $frontend_dir/, or configure with -DCUDNN_FRONTEND_INCLUDE_DIR=<dir>" >&2
    exit 1
  fi
  python3 - "$tmp" "$frontend_dir" <<'PY'
import glob, os, shutil, sys, zipfile
tmp, dest = sys.argv[1], sys.argv[2]
wheels = glob.glob(os.path.join(tmp, "*.whl"))
if len(wheels) != 1:
    sys.exit(f"bootstrap: expected one wheel in {tmp}, found {wheels}")
with zipfile.ZipFile(wheels[0]) as z:
    headers = [n for n in z.namelist() if n.startswith("include/") and not n.endswith("/")]
    if not any(n == "include/cudnn_frontend.h" for n in headers):
        sys.exit(f"bootstrap: {wheels[0]} has no include/cudnn_frontend.h")
    # Staged beside the destination: a rename within one file system is atomic.
    staging = dest + ".partial"
    shutil.rmtree(staging, ignore_errors=True)
    z.extractall(staging, headers)
os.rename(staging, dest)
PY
}

install_debian_packages
if have_cuda_toolkit; then
  fetch_cudnn_frontend
fi
