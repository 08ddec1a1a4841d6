#!/usr/bin/env bash
# Fuzzes a parser's harness with libFuzzer, ASan and UBSan:
#   tools/fuzz.sh HARNESS SECONDS [extra libFuzzer flags]
# HARNESS: fuzz_pickle, fuzz_zip (PyTorch checkpoints), fuzz_safetensors (checkpoints),
# fuzz_config (configs and amounts), fuzz_image (PNG, JPEG), fuzz_cifar (CIFAR-10).
# Configures a clang build in build/fuzz (ROBUSTPRIOR_FUZZ=ON, CUDA off), builds the harness,
# and runs it for SECONDS over a copy of its committed corpus (build/fuzz/corpus/<harness>;
# new inputs stay there, the committed corpus is left alone). Crashes land in
# build/fuzz/artifacts/. Prints executions and coverage; exits non-zero on a finding.
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: tools/fuzz.sh fuzz_pickle|fuzz_zip|fuzz_safetensors|fuzz_config|fuzz_image|fuzz_cifar SECONDS"
target=${1:?$usage}
seconds=${2:?$usage}
shift 2
case "$target" in
  fuzz_pickle | fuzz_zip | fuzz_safetensors | fuzz_config | fuzz_image | fuzz_cifar) ;;
  *) echo "unknown harness '$target'; $usage" >&2; exit 2 ;;
esac
cc=${CC:-clang-14}
cxx=${CXX:-clang++-14}
command -v "$cxx" >/dev/null || {
  echo "$cxx not found: apt-get install -y clang-14 libclang-rt-14-dev" >&2
  exit 2
}
CC=$cc CXX=$cxx cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DROBUSTPRIOR_FUZZ=ON -DROBUSTPRIOR_CUDA=OFF -DROBUSTPRIOR_BUILD_BENCH=OFF >/dev/null
cmake --build build/fuzz --target "$target"
corpus=build/fuzz/corpus/$target
mkdir -p "$corpus" build/fuzz/artifacts
cp -n tests/fuzz/corpus/"$target"/* "$corpus"/
# rp::Error is a refusal; ASan's allocator limit stands in for "asks for absurd memory".
status=0
ASAN_OPTIONS=${ASAN_OPTIONS:-allocator_may_return_null=0:detect_leaks=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
  build/fuzz/bin/"$target" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 \
  -artifact_prefix=build/fuzz/artifacts/ -print_final_stats=1 "$@" "$corpus" \
  >build/fuzz/"$target".log 2>&1 || status=$?
grep -E "^#[0-9]+[[:space:]]+(INITED|DONE)|stat::number_of_executed_units|stat::average_exec_per_sec|ERROR|SUMMARY|Test unit written" \
  build/fuzz/"$target".log || true
echo "$target: exit $status; corpus $(ls "$corpus" | wc -l) inputs; log build/fuzz/$target.log"
exit "$status"
