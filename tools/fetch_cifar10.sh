#!/usr/bin/env bash
# Downloads CIFAR-10's official binary archive (Krizhevsky 2009; 170,052,171 bytes), checks its
# SHA-256, and unpacks the six data files and the class names into DIR/cifar-10-batches-bin
# (DIR defaults to ./data). Nothing is left half-written: the archive and the unpacked files
# land in a temporary folder beside the target and are moved into place only after both checks.
# Does nothing when the folder already holds the six files at their full size.
# Usage: tools/fetch_cifar10.sh [DIR]        (ROBUSTPRIOR_CIFAR10_URL overrides the address)
set -euo pipefail
dir=${1:-data}
url=${ROBUSTPRIOR_CIFAR10_URL:-https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz}
sha256=c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd
files=(data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin
       test_batch.bin)
target="$dir/cifar-10-batches-bin"

complete() {  # every data file there, at 10,000 records of 3,073 bytes
  local f
  for f in "${files[@]}"; do
    [ "$(stat -c %s "$target/$f" 2>/dev/null || echo 0)" = 30730000 ] || return 1
  done
  [ -f "$target/batches.meta.txt" ]
}
if complete; then
  echo "fetch_cifar10: $target already holds CIFAR-10"
  exit 0
fi

if ! command -v curl >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq curl ca-certificates
  else
    echo "fetch_cifar10: curl is missing; install it with: sudo apt-get install -y curl ca-certificates" >&2
    exit 1
  fi
fi

mkdir -p "$dir"
work=$(mktemp -d "$dir/.cifar10.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "fetch_cifar10: downloading $url (162 MiB)"
curl -fL --retry 3 --progress-bar -o "$work/archive.tar.gz" "$url" ||
  { echo "fetch_cifar10: download failed from $url" >&2; exit 1; }
found=$(sha256sum "$work/archive.tar.gz" | cut -d' ' -f1)
if [ "$found" != "$sha256" ]; then
  echo "fetch_cifar10: $url: SHA-256 $found, expected $sha256 (CIFAR-10's binary archive)" >&2
  exit 1
fi
# Only the expected members, by name: nothing else in the archive is written.
members=()
for f in "${files[@]}" batches.meta.txt; do members+=("cifar-10-batches-bin/$f"); done
tar -C "$work" -xzf "$work/archive.tar.gz" "${members[@]}"
rm -rf "$target"
mv "$work/cifar-10-batches-bin" "$target"
complete || { echo "fetch_cifar10: $target is incomplete after unpacking" >&2; exit 1; }
echo "fetch_cifar10: CIFAR-10 in $target"
