#!/usr/bin/env bash
# The one-call proof of the GPU path, in two halves.
#
#   tools/gpu_check.sh prepare [CIFAR_DIR]   on a build machine: builds the release binaries,
#       packs the GPU-relevant ones (tools/gpu_bundle.sh) into .gpu/bundle.tar.gz and cuts a
#       CIFAR-10 subset into .gpu/cifar (2,000 records of each file: 10,000 training and 2,000
#       test images), everything under 64 MB. CIFAR_DIR defaults to ../shared/data/cifar-10-batches-bin
#       when it exists; without one the workloads use synthetic data.
#   tools/gpu_check.sh [run]                 on the GPU node, from the repository root with .gpu/
#       beside it: unpacks the bundle, prints the device, driver, cuDNN and cuBLAS versions,
#       runs every GPU test (the op tests also under compute-sanitizer memcheck, the reduction
#       kernels under racecheck, when the tool is present), the whole-network tests, and the
#       real workloads on a full-width ResNet-18 with images/s: one epoch of standard training
#       on the 10,000 images with a clean evaluation, 100 steps of L2 PGD-7 adversarial
#       training, a PGD-20 evaluation of 1,000 test images and a shortened `demo --size gpu`.
#       Logs go under $OUT (default ./gpu-check-out); the summary table is printed last.
# Designed to finish within 6 minutes on an H200; each step has its own time limit.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
stage="$root/.gpu"

# The binaries the check runs: the CLI and the tests that exercise the GPU.
gpu_binaries=(robustprior test_core_context test_core_cuda_ordering test_ops_cuda
              test_ops_perturb_cuda test_ops_loop_cuda test_ops_conv2d_cudnn test_network_cuda
              test_train_training)

prepare() {
  local cifar=${1:-}
  if [ -z "$cifar" ] && [ -d "$root/../shared/data/cifar-10-batches-bin" ]; then
    cifar="$root/../shared/data/cifar-10-batches-bin"
  fi
  rm -rf "$stage"
  mkdir -p "$stage"
  ROBUSTPRIOR_BUNDLE_ONLY="${gpu_binaries[*]}" ./tools/gpu_bundle.sh "$stage/bundle" || exit 1
  cp "$stage/bundle/COMMIT" "$stage/bundle.commit"
  tar -C "$stage" -czf "$stage/bundle.tar.gz" bundle && rm -rf "$stage/bundle"
  if [ -n "$cifar" ]; then
    # The first 2,000 records of every file: the loader takes the count from the files.
    mkdir -p "$stage/cifar"
    cp "$cifar/batches.meta.txt" "$stage/cifar/"
    for f in data_batch_1 data_batch_2 data_batch_3 data_batch_4 data_batch_5 test_batch; do
      head -c $((2000 * 3073)) "$cifar/$f.bin" > "$stage/cifar/$f.bin" ||
        { echo "gpu_check: cannot read $cifar/$f.bin" >&2; exit 1; }
    done
  fi
  echo "gpu_check: payload in $stage: $(du -sh "$stage" | cut -f1) (the device call carries .gpu)"
}

# step NAME LIMIT_S COMMAND...: runs one step with its log under $out, records its status.
results=()
failures=0
step() {
  local name=$1 limit=$2
  shift 2
  local log="$out/$name.log" start end status
  start=$(date +%s.%N)
  timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1
  status=$?
  end=$(date +%s.%N)
  local verdict=pass
  if [ $status -eq 124 ] || [ $status -eq 137 ]; then verdict="TIMEOUT(${limit}s)"; fi
  if [ $status -ne 0 ] && [ "$verdict" = pass ]; then verdict="FAIL($status)"; fi
  [ "$verdict" = pass ] || failures=$((failures + 1))
  local secs
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
  local detail
  detail=$(grep -hE '^\[  (PASSED|FAILED|SKIPPED)  \]' "$log" | tr -s ' ' | tr '\n' ' ')
  results+=("$(printf '%-34s %-14s %7ss  %s' "$name" "$verdict" "$secs" "$detail")")
  echo "gpu_check: $name: $verdict (${secs}s)" >&2
}

# A number from a JSON file (metrics.jsonl: its last line), formatted: json_number FILE KEY UNIT.
json_number() {
  python3 - "$@" <<'PY' 2>/dev/null || echo "($2 unreadable)"
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
value = json.loads(lines[-1] if sys.argv[1].endswith(".jsonl") else "".join(lines))[sys.argv[2]]
print("%.0f %s" % (value, sys.argv[3]))
PY
}

run() {
  out=${OUT:-$root/gpu-check-out}
  mkdir -p "$out"
  [ -f "$stage/bundle.tar.gz" ] ||
    { echo "gpu_check: no $stage/bundle.tar.gz; run 'tools/gpu_check.sh prepare' first" >&2; exit 2; }
  local work
  work=$(mktemp -d)
  tar -C "$work" -xzf "$stage/bundle.tar.gz"
  local b="$work/bundle" r="$work/bundle/run.sh"
  "$r" true 2>&1 | tee "$out/environment.log"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader \
    >>"$out/environment.log" 2>&1 || true

  # Every GPU test, and the whole-network tests.
  for t in test_core_context test_core_cuda_ordering test_ops_cuda test_ops_perturb_cuda \
           test_ops_loop_cuda test_ops_conv2d_cudnn test_network_cuda; do
    step "$t" 240 "$r" "$b/bin/$t"
  done
  step test_train_training.cuda 120 "$r" "$b/bin/test_train_training" --gtest_filter='*Cuda*'

  local sanitizer
  sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -1)
  if [ -n "$sanitizer" ]; then
    for t in test_ops_cuda test_ops_perturb_cuda test_ops_loop_cuda; do
      step "memcheck.$t" 150 "$r" "$sanitizer" --tool memcheck --error-exitcode 1 "$b/bin/$t"
    done
    step racecheck.reductions 150 "$r" "$sanitizer" --tool racecheck --error-exitcode 1 \
      "$b/bin/test_ops_cuda" --gtest_filter='BatchNorm*:CrossEntropy*:Pool*'
    step racecheck.perturb_l2 150 "$r" "$sanitizer" --tool racecheck --error-exitcode 1 \
      "$b/bin/test_ops_perturb_cuda" --gtest_filter='*L2*:*Norm*'
  else
    results+=("compute-sanitizer                  not found: memcheck and racecheck not run")
  fi

  # Real workloads: full-width ResNet-18 on the carried CIFAR-10 subset (or synthetic data).
  local data=(--dataset synthetic --synthetic-train 10000 --synthetic-test 2000)
  local demo_data=synthetic
  if [ -f "$stage/cifar/test_batch.bin" ]; then
    data=(--dataset cifar10 --data "$stage/cifar")
    demo_data="cifar10:$stage/cifar"
  fi
  local cli="$b/bin/robustprior"
  rm -rf "$out/standard" "$out/robust"
  step train.standard.1epoch 150 "$r" "$cli" train "${data[@]}" --arch resnet18 --epochs 1 \
    --batch-size 128 --lr 0.1 --device cuda --out "$out/standard" --quiet
  [ -f "$out/standard/metrics.jsonl" ] &&
    results[-1]+="$(json_number "$out/standard/metrics.jsonl" images_per_s "training images/s")"
  # 100 steps of 100: all 10,000 training images once.
  step train.pgd7_l2.100steps 180 "$r" "$cli" train "${data[@]}" --arch resnet18 --epochs 1 \
    --batch-size 100 --lr 0.1 --adv pgd --constraint 2 --eps 0.5 --attack-steps 7 \
    --robust-eval-subset 0 --device cuda --out "$out/robust" --quiet
  [ -f "$out/robust/metrics.jsonl" ] &&
    results[-1]+="$(json_number "$out/robust/metrics.jsonl" images_per_s "training images/s (8 passes each)")"
  if [ -f "$out/robust/latest.safetensors" ]; then
    step eval.pgd20_l2.1000images 120 "$r" "$cli" eval --checkpoint "$out/robust/latest.safetensors" \
      --subset 1000 --adv --constraint 2 --eps 0.5 --attack-steps 20 --device cuda \
      --json "$out/robust_eval.json"
    [ -f "$out/robust_eval.json" ] &&
      results[-1]+="$(json_number "$out/robust_eval.json" image_iterations_per_s "image-iterations/s")"
  fi
  if [ -f "$out/robust/latest.safetensors" ] && [ -f "$out/standard/latest.safetensors" ]; then
    step demo.gpu.shortened 150 "$r" "$cli" demo --size gpu --data "$demo_data" \
      --checkpoints "$out/robust/latest.safetensors,$out/standard/latest.safetensors" \
      --max-iterations 200 --device cuda --out "$out/demo" --quiet
  fi
  rm -rf "$work"

  echo
  echo "== gpu_check summary ($(cat "$stage/bundle.commit" 2>/dev/null || echo "commit ?"); logs in $out) =="
  printf '%-34s %-14s %8s  %s\n' step result time detail
  printf '%s\n' "${results[@]}"
  echo "failures: $failures"
  [ $failures -eq 0 ]
}

case "${1:-run}" in
  prepare) shift; prepare "$@" ;;
  run) run ;;
  *) echo "usage: tools/gpu_check.sh prepare [CIFAR_DIR] | tools/gpu_check.sh [run]" >&2; exit 2 ;;
esac
