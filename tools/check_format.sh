#!/usr/bin/env bash
# Checks that every C++/CUDA source follows .clang-format. Usage: check_format.sh [clang-format]
# Run from the source tree; lists the files that differ and exits 1 if any do.
set -euo pipefail
cd "$(dirname "$0")/.."
fmt=${1:-clang-format}
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files --cached --others --exclude-standard \
    '*.h' '*.cpp' '*.cu' '*.cuh')
else
  mapfile -t files < <(find engine kernels models weights tools tests bench \
    -name '*.h' -o -name '*.cpp' -o -name '*.cu' -o -name '*.cuh')
fi
bad=()
for f in "${files[@]}"; do
  [ -f "$f" ] || continue
  if ! "$fmt" --dry-run --Werror "$f" >/dev/null 2>&1; then bad+=("$f"); fi
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "These files do not follow .clang-format (fix: $fmt -i <file>):"
  printf '  %s\n' "${bad[@]}"
  exit 1
fi
echo "${#files[@]} files follow .clang-format"
