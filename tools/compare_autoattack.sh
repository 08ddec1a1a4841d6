#!/usr/bin/env bash
# The engine's AutoAttack against an independent implementation (torchattacks) on the same
# weights and the same CIFAR-10 test images, on the CPU: trains a small L2-robust ResNet-18
# with the engine (or takes --checkpoint), evaluates it with `robustprior eval` (clean, PGD-20
# and AutoAttack, per-example outcomes), then runs bench/pytorch/compare_autoattack.py, which
# loads the same checkpoint into PyTorch, runs torchattacks' AutoAttack (beside the engine's)
# and prints the table.
#
#   tools/compare_autoattack.sh --data CIFAR10_DIR [--checkpoint CKPT] [--n N] [--eps E]
#                               [--steps K] [--threads T] [--out DIR]
#
#   --data        CIFAR-10 binary batches (data_batch_*.bin, test_batch.bin)
#   --checkpoint  an engine checkpoint to evaluate (default: train one into OUT/train: ResNet-18
#                 width 0.0625, L2 PGD-3 eps 0.5, the first 5000 training images, 5 epochs)
#   --n           first N test images (default 100)
#   --eps         L2 radius (default 0.5)
#   --steps       torchattacks' APGD/APGD-T/FAB iterations (default 0: its standard version, 10)
#   --threads     CPU threads for each side (default 2)
#   --out         where everything goes (default out/compare_autoattack)
#
# The engine is build/ci/bin/robustprior, or $ROBUSTPRIOR_CLI; PyTorch is the python3 on PATH
# ($PYTHON overrides) with torch and torchattacks installed. Not part of CI. Exit status: the
# comparison script's (1 when one of its checks fails).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENGINE="${ROBUSTPRIOR_CLI:-$ROOT/build/ci/bin/robustprior}"
PYTHON="${PYTHON:-python3}"

usage() {  # the comment block above
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}
die() { echo "compare_autoattack: $*" >&2; exit 2; }

DATA="" CKPT="" N=100 EPS=0.5 STEPS=0 THREADS=2 OUT="$ROOT/out/compare_autoattack"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --data) [[ $# -ge 2 ]] || die "--data needs a value"; DATA="$2"; shift 2 ;;
    --checkpoint) [[ $# -ge 2 ]] || die "--checkpoint needs a value"; CKPT="$2"; shift 2 ;;
    --n) [[ $# -ge 2 ]] || die "--n needs a value"; N="$2"; shift 2 ;;
    --eps) [[ $# -ge 2 ]] || die "--eps needs a value"; EPS="$2"; shift 2 ;;
    --steps) [[ $# -ge 2 ]] || die "--steps needs a value"; STEPS="$2"; shift 2 ;;
    --threads) [[ $# -ge 2 ]] || die "--threads needs a value"; THREADS="$2"; shift 2 ;;
    --out) [[ $# -ge 2 ]] || die "--out needs a value"; OUT="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done
[[ -n "$DATA" ]] || die "--data (the CIFAR-10 binary directory) is required"
[[ -f "$DATA/test_batch.bin" ]] || die "--data $DATA has no test_batch.bin"
[[ "$N" =~ ^[1-9][0-9]*$ ]] || die "--n must be a positive integer, found '$N'"
[[ "$THREADS" =~ ^[1-9][0-9]*$ ]] || die "--threads must be a positive integer, found '$THREADS'"
[[ -x "$ENGINE" ]] || die "no engine at $ENGINE (build the robustprior target or set ROBUSTPRIOR_CLI)"
mkdir -p "$OUT"

if [[ -z "$CKPT" ]]; then
  "$ENGINE" train --dataset cifar10 --data "$DATA" --arch resnet18 --width 0.0625 --adv pgd \
    --constraint 2 --eps 0.5 --attack-steps 3 --train-subset 5000 --test-subset 500 \
    --robust-eval-subset 200 --epochs 5 --batch-size 128 --threads "$THREADS" --quiet \
    --out "$OUT/train"
  CKPT="$OUT/train/latest.safetensors"
fi
[[ -f "$CKPT" ]] || die "no checkpoint at $CKPT"

EVAL=("$ENGINE" eval --checkpoint "$CKPT" --dataset cifar10 --data "$DATA" --subset "$N"
      --threads "$THREADS")
rm -f "$OUT/engine_clean.json" "$OUT/engine_pgd20.json" "$OUT/engine_aa.json"
"${EVAL[@]}" --json "$OUT/engine_clean.json"
"${EVAL[@]}" --adv --attack pgd --attack-steps 20 --constraint 2 --eps "$EPS" \
  --json "$OUT/engine_pgd20.json"

# The two AutoAttacks side by side (each with --threads): the comparison script runs
# torchattacks first and then waits for the engine's results.
"$PYTHON" "$ROOT/bench/pytorch/compare_autoattack.py" --checkpoint "$CKPT" --data "$DATA" \
  --n "$N" --eps "$EPS" --steps "$STEPS" --threads "$THREADS" --wait 86400 \
  --engine-json "$OUT/engine_aa.json" --engine-pgd-json "$OUT/engine_pgd20.json" \
  --engine-clean-json "$OUT/engine_clean.json" --out "$OUT/compare.json" &
TORCH_PID=$!
if ! "${EVAL[@]}" --adv --attack autoattack --constraint 2 --eps "$EPS" \
  --json "$OUT/engine_aa.json"; then
  kill "$TORCH_PID"
  die "the engine's AutoAttack failed"
fi
wait "$TORCH_PID"
