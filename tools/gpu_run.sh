#!/usr/bin/env bash
# The runner of a bundle made by tools/gpu_bundle.sh, on a GPU node without the build tools.
# Finds cuDNN and cuBLAS on the node - CUDA's lib64 folders, then PyTorch's nvidia wheels -
# puts them and the bundle's lib/ on LD_LIBRARY_PATH, prints the devices and the cuDNN version
# actually loaded, then runs the command given (binaries in bin/ are on PATH), or with no
# command every test binary, ending with a table of their results.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)

find_dir() {  # find_dir LIBNAME: the first folder holding LIBNAME*
  local candidates=(/usr/local/cuda/lib64 /usr/local/cuda-*/lib64 /usr/local/cuda/lib
                    /usr/lib/x86_64-linux-gnu)
  if command -v python3 >/dev/null; then
    while read -r d; do candidates+=("$d"); done < <(python3 - 2>/dev/null <<'PY'
import os
try:
    import nvidia
    for root in nvidia.__path__:
        for pkg in sorted(os.listdir(root)):
            print(os.path.join(root, pkg, "lib"))
except Exception:
    pass
PY
)
  fi
  for d in "${candidates[@]}"; do
    if compgen -G "$d/$1*" >/dev/null; then echo "$d"; return 0; fi
  done
  return 1
}

cudnn_dir=$(find_dir libcudnn.so.9) || { echo "run.sh: cuDNN 9 (libcudnn.so.9) not found on this node" >&2; exit 1; }
cublas_dir=$(find_dir libcublas.so.13) || { echo "run.sh: cuBLAS 13 (libcublas.so.13) not found on this node" >&2; exit 1; }
# NVRTC: cuDNN's runtime-compiled engines and cudnn-frontend's plans need it.
nvrtc_dir=$(find_dir libnvrtc.so.13) || { echo "run.sh: NVRTC 13 (libnvrtc.so.13) not found on this node" >&2; exit 1; }
export LD_LIBRARY_PATH="$here/lib:$cudnn_dir:$cublas_dir:$nvrtc_dir:${LD_LIBRARY_PATH:-}"
export PATH="$here/bin:$PATH"
export ROBUSTPRIOR_CLI="$here/bin/robustprior"  # the CLI tests run this one
[ -d "$here/fonts" ] && export ROBUSTPRIOR_FONT_DIR="$here/fonts"  # the figures' typeface
echo "bundle $(cat "$here/COMMIT" 2>/dev/null); cuDNN from $cudnn_dir, cuBLAS from $cublas_dir, NVRTC from $nvrtc_dir"
"$here/bin/robustprior" info | sed -n '/^cuda/,$p'

if [ $# -gt 0 ]; then
  exec "$@"
fi
logs="${OUT:-/tmp}"
mkdir -p "$logs"
status=0
results=()
for t in "$here"/bin/test_*; do
    log="$logs/$(basename "$t").log"
  if "$t" >"$log" 2>&1; then r=pass; else r=FAIL; status=1; fi
  summary=$(grep -E '^\[  (PASSED|FAILED|SKIPPED)  \]' "$log" | tr '\n' ' ')
  results+=("$(printf '%-28s %-5s %s' "$(basename "$t")" "$r" "$summary")")
done
printf '%s\n' "${results[@]}"
exit $status
