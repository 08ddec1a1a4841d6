#!/usr/bin/env bash
# Packs the release build's binaries (tests, benchmarks, the CLI), stripped, with the shared
# libraries they need that a GPU node without the build tools may lack, into one folder
# (default .bundle/), with run.sh beside them. cuDNN and cuBLAS are not packed: run.sh finds
# the node's own. Usage: tools/gpu_bundle.sh [OUT_DIR]; ROBUSTPRIOR_BUNDLE_ONLY="a b ..." packs
# only the named binaries (tools/gpu_check.sh keeps its payload small that way).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.bundle}
./tools/build.sh release >/dev/null
rm -rf "$out"
mkdir -p "$out/bin" "$out/lib"
only=" ${ROBUSTPRIOR_BUNDLE_ONLY:-} "
for exe in build/release/bin/*; do
  [ -x "$exe" ] && [ -f "$exe" ] || continue
  [ "$only" = "  " ] || [[ "$only" == *" $(basename "$exe") "* ]] || continue
  strip -o "$out/bin/$(basename "$exe")" "$exe"
done
# Everything ldd resolves except the C/C++ runtime every Linux has and the CUDA libraries the
# node provides (its driver, cuDNN, cuBLAS).
for exe in "$out"/bin/*; do
  ldd "$exe" | awk '/=>/ { print $3 }'
done | sort -u | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so*|libm.so*|libstdc++.so*|libgcc_s.so*|libpthread.so*|libdl.so*|librt.so*|ld-linux*) ;;
    libcuda.so*|libcudnn*|libcublas*|libnvrtc*) ;;
    *) cp -L "$lib" "$out/lib/" ;;
  esac
done
# The figures' typeface: a node without fonts-dejavu-core still draws (run.sh points
# ROBUSTPRIOR_FONT_DIR here).
mkdir -p "$out/fonts"
for f in DejaVuSans.ttf DejaVuSans-Bold.ttf; do
  cp -L "/usr/share/fonts/truetype/dejavu/$f" "$out/fonts/"
done
cp tools/gpu_run.sh "$out/run.sh"
chmod +x "$out/run.sh"
git rev-parse --short=12 HEAD > "$out/COMMIT" 2>/dev/null || echo unknown > "$out/COMMIT"
echo "bundle in $out ($(du -sh "$out" | cut -f1)): $(ls "$out/bin" | wc -l) binaries, libs: $(ls "$out/lib" | tr '\n' ' ')"
