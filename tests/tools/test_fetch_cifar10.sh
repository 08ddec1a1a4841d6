#!/usr/bin/env bash
# tools/fetch_cifar10.sh without the network (file:// addresses): a complete folder is left
# alone; an archive with the wrong checksum and a failed download are refused with a message
# and leave nothing behind, and an incomplete folder is not taken for a complete one.
# Usage: test_fetch_cifar10.sh REPOSITORY_ROOT. Exits 77 (skipped) without curl.
set -uo pipefail
script="$1/tools/fetch_cifar10.sh"
command -v curl >/dev/null || { echo "curl not installed: skipped"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
fetch() {  # fetch URL DIR: the script's output; its status in $status
  out=$(ROBUSTPRIOR_CIFAR10_URL="$1" "$script" "$2" 2>&1)
  status=$?
}
make_folder() {  # make_folder DIR SIZE: the six files at SIZE bytes, the class names
  mkdir -p "$1/cifar-10-batches-bin"
  for f in data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin \
           data_batch_5.bin test_batch.bin; do
    truncate -s "$2" "$1/cifar-10-batches-bin/$f"
    printf '%s' "$f" | dd of="$1/cifar-10-batches-bin/$f" conv=notrunc status=none
  done
  echo airplane >"$1/cifar-10-batches-bin/batches.meta.txt"
}

# A complete folder: nothing fetched (the address does not exist), nothing changed.
make_folder "$work/complete" 30730000
before=$(sha256sum "$work/complete/cifar-10-batches-bin/"* | sha256sum)
fetch "file://$work/nothing.tar.gz" "$work/complete"
[ $status -eq 0 ] || fail "a complete folder was not accepted: $out"
[[ $out == *"already holds CIFAR-10"* ]] || fail "a complete folder: '$out'"
[ "$(sha256sum "$work/complete/cifar-10-batches-bin/"* | sha256sum)" = "$before" ] ||
  fail "a complete folder was changed"

# An archive of the right layout but not CIFAR-10's bytes: refused by its checksum.
make_folder "$work/fake" 3073
tar -C "$work/fake" -czf "$work/fake.tar.gz" cifar-10-batches-bin
fetch "file://$work/fake.tar.gz" "$work/wrong"
[ $status -ne 0 ] || fail "an archive with the wrong checksum was accepted"
[[ $out == *"SHA-256"*"expected c4a38c50a1bc"* ]] || fail "the wrong checksum's message: '$out'"
[ -z "$(ls -A "$work/wrong")" ] || fail "the refused archive left files: $(ls -A "$work/wrong")"

# A download that fails: refused, nothing left.
fetch "file://$work/missing.tar.gz" "$work/failed"
[ $status -ne 0 ] || fail "a failed download was accepted"
[[ $out == *"download failed"* ]] || fail "the failed download's message: '$out'"
[ -z "$(ls -A "$work/failed")" ] || fail "the failed download left files"

# One file short of its size: the folder is incomplete, so the script fetches (and here
# fails), leaving the folder as it was.
make_folder "$work/short" 30730000
truncate -s 30729999 "$work/short/cifar-10-batches-bin/test_batch.bin"
fetch "file://$work/missing.tar.gz" "$work/short"
[ $status -ne 0 ] || fail "an incomplete folder was taken for a complete one: '$out'"
[ "$(stat -c %s "$work/short/cifar-10-batches-bin/test_batch.bin")" = 30729999 ] ||
  fail "the incomplete folder was changed"
echo "fetch_cifar10: all cases passed"
