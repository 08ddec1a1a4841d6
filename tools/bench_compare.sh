#!/usr/bin/env bash
# Engine vs PyTorch throughput, side by side: `robustprior bench` and
# bench/pytorch/bench_torch.py on the same workloads, interleaved (engine, then each PyTorch
# variant, per workload, for several rounds, so that a drift in machine load hits both sides);
# a side's figure is the median over the rounds of its per-round result (itself the median of
# its timed runs). Prints one table and writes every raw result and the table rows as JSON.
#
#   tools/bench_compare.sh --device cpu|cuda [--quick] [--record] [--threads T] [--out DIR]
#                          [--rounds N] [--archs A,B] [--variants V,W] [--workloads X,Y]
#
#   --quick    fewer workloads, iterations and rounds (a few minutes on 2 CPU cores)
#   --record   append the table to bench/RESULTS.md with the date, commit, command and machine
#   --threads  CPU threads for both sides (default: every available core)
#   --out      where the JSON goes (default out/bench)
#   --rounds   interleaved rounds (default 3; 2 with --quick)
#   --archs, --variants, --workloads   keep only these of the default set (comma lists), e.g.
#              to fit a GPU time budget: --device cuda --quick --archs resnet18
#
# Default set, cpu: train-step ResNet-18 at width 0.25 and 1, pgd-eval (K=7) at 0.25, and
# without --quick fgsm-rs-step, pgd-train-step (K=7) and invert-iter at 0.25; PyTorch eager.
# cuda: the same at width 1 for resnet18, resnet50 and preact_resnet18; PyTorch eager,
# amp-bf16-cl and compile (each compile run compiles in its warm-up: the cuda set takes tens of
# minutes, --quick about ten; filter it down to fit a budget).
#
# The engine is build/release/bin/robustprior, or $ROBUSTPRIOR_CLI; PyTorch is the python3 on
# PATH ($PYTHON overrides), with torch installed (bench/pytorch/requirements.txt). Not part of CI.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENGINE="${ROBUSTPRIOR_CLI:-$ROOT/build/release/bin/robustprior}"
PYTHON="${PYTHON:-python3}"
TORCH_BENCH="$ROOT/bench/pytorch/bench_torch.py"
COMMAND="tools/bench_compare.sh $*"

usage() {  # the comment block above
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}
die() { echo "bench_compare: $*" >&2; exit 2; }

DEVICE="" QUICK=0 RECORD=0 THREADS="" OUT="$ROOT/out/bench" ROUNDS="" ARCHS="" ONLY_VARIANTS=""
ONLY_WORKLOADS=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --device) [[ $# -ge 2 ]] || die "--device needs a value"; DEVICE="$2"; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --record) RECORD=1; shift ;;
    --threads) [[ $# -ge 2 ]] || die "--threads needs a value"; THREADS="$2"; shift 2 ;;
    --out) [[ $# -ge 2 ]] || die "--out needs a value"; OUT="$2"; shift 2 ;;
    --rounds) [[ $# -ge 2 ]] || die "--rounds needs a value"; ROUNDS="$2"; shift 2 ;;
    --archs) [[ $# -ge 2 ]] || die "--archs needs a value"; ARCHS="$2"; shift 2 ;;
    --variants) [[ $# -ge 2 ]] || die "--variants needs a value"; ONLY_VARIANTS="$2"; shift 2 ;;
    --workloads) [[ $# -ge 2 ]] || die "--workloads needs a value"; ONLY_WORKLOADS="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done
[[ "$DEVICE" == cpu || "$DEVICE" == cuda ]] ||
  die "--device cpu or --device cuda is required (found '${DEVICE}')"
if [[ -z "$THREADS" ]]; then THREADS="$(nproc)"; fi
[[ "$THREADS" =~ ^[1-9][0-9]*$ ]] || die "--threads must be a positive integer, found '$THREADS'"
if [[ -z "$ROUNDS" ]]; then ROUNDS=$((QUICK ? 2 : 3)); fi
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive integer, found '$ROUNDS'"

# Both sides must exist before anything runs.
[[ -x "$ENGINE" ]] ||
  die "no engine binary at $ENGINE: build it (./tools/build.sh) or set ROBUSTPRIOR_CLI"
"$ENGINE" --help 2>/dev/null | grep -qE '^ +bench ' ||
  die "$ENGINE has no 'bench' command (an old build? rebuild it)"
if ! "$PYTHON" -c 'import torch' >/dev/null 2>&1; then
  echo "bench_compare: PyTorch is not importable by $PYTHON; install it with" >&2
  echo "  $PYTHON -m pip install -r bench/pytorch/requirements.txt" >&2
  exit 3
fi

# The workloads: workload arch width batch attack-steps (- for the workload's own).
WORKLOADS=()
if [[ "$DEVICE" == cpu ]]; then
  VARIANTS=(eager)
  WORKLOADS+=("train-step resnet18 0.25 128 -" "train-step resnet18 1 128 -"
              "pgd-eval resnet18 0.25 128 7")
  if [[ $QUICK == 0 ]]; then
    WORKLOADS+=("fgsm-rs-step resnet18 0.25 128 -" "pgd-train-step resnet18 0.25 128 7"
                "invert-iter resnet18 0.25 10 -")
  fi
else
  VARIANTS=(eager amp-bf16-cl compile)
  for arch in resnet18 resnet50 preact_resnet18; do
    WORKLOADS+=("train-step $arch 1 128 -" "pgd-eval $arch 1 128 7")
    if [[ $QUICK == 0 ]]; then
      WORKLOADS+=("fgsm-rs-step $arch 1 128 -" "pgd-train-step $arch 1 128 7"
                  "invert-iter $arch 1 10 -")
    fi
  done
fi

# The filters.
in_list() { [[ -z "$2" || ",$2," == *",$1,"* ]]; }  # item list: empty list keeps everything
for v in ${ONLY_VARIANTS//,/ }; do
  in_list "$v" "$(IFS=,; echo "${VARIANTS[*]}")" ||
    die "--variants: '$v' is not one of ${VARIANTS[*]} on $DEVICE"
done
for a in ${ARCHS//,/ }; do
  in_list "$a" "resnet18,resnet34,resnet50,preact_resnet18" || die "--archs: unknown '$a'"
done
for w in ${ONLY_WORKLOADS//,/ }; do
  in_list "$w" "train-step,pgd-train-step,fgsm-rs-step,pgd-eval,invert-iter" ||
    die "--workloads: unknown '$w'"
done
kept=()
for v in "${VARIANTS[@]}"; do if in_list "$v" "$ONLY_VARIANTS"; then kept+=("$v"); fi; done
VARIANTS=("${kept[@]}")
kept=()
for spec in "${WORKLOADS[@]}"; do
  read -r w arch _ <<<"$spec"
  if in_list "$arch" "$ARCHS" && in_list "$w" "$ONLY_WORKLOADS"; then kept+=("$spec"); fi
done
[[ ${#kept[@]} -gt 0 ]] || die "the filters leave no workload of the $DEVICE set"
WORKLOADS=("${kept[@]}")

# Iterations per workload: warmup iters repeats. Sized from PyTorch eager on a 2-core AMD EPYC
# (ms per iteration: train-step 360 at width 0.25 and 3,700 at width 1, pgd-eval K=7 1,700,
# fgsm-rs-step 640, pgd-train-step K=7 2,300, invert-iter 26) so that one side's run takes
# seconds to half a minute there; on a GPU, a few seconds each.
timing() {  # workload width -> "warmup iters repeats"
  local key="$DEVICE:$QUICK:$1:$2"
  case "$key" in
    cpu:1:train-step:1) echo "1 1 3" ;;
    cpu:1:train-step:*) echo "2 5 3" ;;
    cpu:1:*) echo "1 1 3" ;;
    cpu:0:train-step:1) echo "1 2 3" ;;
    cpu:0:train-step:*) echo "3 10 5" ;;
    cpu:0:fgsm-rs-step:*) echo "2 5 5" ;;
    cpu:0:invert-iter:*) echo "5 50 5" ;;
    cpu:0:*) echo "2 3 5" ;;
    cuda:1:pgd-*) echo "3 5 3" ;;
    cuda:1:*) echo "3 10 3" ;;
    cuda:0:pgd-*) echo "3 5 5" ;;
    cuda:0:invert-iter:*) echo "10 50 5" ;;
    cuda:0:*) echo "5 20 5" ;;
  esac
}

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RAW="$OUT/raw-$DEVICE-$STAMP"
mkdir -p "$RAW"
SUMMARY="$OUT/compare-$DEVICE-$STAMP.json"

read_ips() {  # json -> images/s
  "$PYTHON" -c 'import json,sys; print("%.1f" % json.load(open(sys.argv[1]))["images_per_s"])' "$1"
}

sides=$((1 + ${#VARIANTS[@]}))
total=$(( ${#WORKLOADS[@]} * ROUNDS * sides ))
n=0 failures=0
MANIFEST="$RAW/manifest.tsv"  # row side variant round file
: >"$MANIFEST"
echo "bench_compare: $DEVICE, $THREADS threads, ${#WORKLOADS[@]} workloads x $ROUNDS rounds x" \
     "(engine + ${VARIANTS[*]}); raw results in $RAW" >&2
for ((row = 0; row < ${#WORKLOADS[@]}; ++row)); do
  read -r w arch width batch k <<<"${WORKLOADS[$row]}"
  read -r warmup iters repeats <<<"$(timing "$w" "$width")"
  common=(--workload "$w" --arch "$arch" --width "$width" --batch "$batch" --device "$DEVICE"
          --threads "$THREADS" --warmup "$warmup" --iters "$iters" --repeats "$repeats" --quiet)
  if [[ "$k" != "-" ]]; then common+=(--attack-steps "$k"); fi
  for ((round = 1; round <= ROUNDS; ++round)); do
    for side in engine "${VARIANTS[@]}"; do
      n=$((n + 1))
      if [[ "$side" == engine ]]; then
        file="$RAW/$row-$w-$arch-$width-r$round-engine.json"
        cmd=("$ENGINE" bench "${common[@]}" --json "$file")
      else
        file="$RAW/$row-$w-$arch-$width-r$round-torch-$side.json"
        cmd=("$PYTHON" "$TORCH_BENCH" "${common[@]}" --variant "$side" --json "$file")
        if [[ "$w" != train-step ]]; then cmd+=(--attack-mode careful); fi
      fi
      who="pytorch $side"
      if [[ "$side" == engine ]]; then who=robustprior; fi
      label="[$n/$total] $w $arch w$width b$batch round $round $who"
      if "${cmd[@]}" >"$file.log" 2>&1 && [[ -s "$file" ]]; then
        echo "$label: $(read_ips "$file") images/s" >&2
        engine_name=pytorch
        if [[ "$side" == engine ]]; then engine_name=engine; fi
        printf '%s\t%s\t%s\t%s\t%s\n' "$row" "$engine_name" "$side" "$round" "$file" >>"$MANIFEST"
      else
        failures=$((failures + 1))
        echo "$label: FAILED (${cmd[*]}); its output:" >&2
        tail -n 20 "$file.log" | sed 's/^/    /' >&2
      fi
    done
  done
done

# The machine, for the record and the JSON.
CPU_MODEL="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)"
GPU_NAME=""
if [[ "$DEVICE" == cuda ]] && command -v nvidia-smi >/dev/null 2>&1; then
  GPU_NAME="$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n1 || true)"
fi
if COMMIT="$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null)"; then
  if ! git -C "$ROOT" diff --quiet HEAD --; then COMMIT="$COMMIT (with uncommitted changes)"; fi
else
  COMMIT="unknown (not a git checkout)"
fi

TABLE="$RAW/table.md"
export BC_DEVICE="$DEVICE" BC_THREADS="$THREADS" BC_ROUNDS="$ROUNDS" BC_QUICK="$QUICK"
export BC_COMMAND="$COMMAND" BC_COMMIT="$COMMIT" BC_CPU="$CPU_MODEL" BC_GPU="$GPU_NAME"
BC_NPROC="$(nproc)"
export BC_NPROC BC_VARIANTS="${VARIANTS[*]}"
"$PYTHON" - "$MANIFEST" "$SUMMARY" "$TABLE" "${WORKLOADS[@]}" <<'PY'
import datetime, json, os, statistics, sys

manifest, summary, table_path, *workloads = sys.argv[1:]
env = os.environ
variants = env["BC_VARIANTS"].split()
cuda = env["BC_DEVICE"] == "cuda"
runs = {}  # (row, side) -> [result]
raw = []
for line in open(manifest):
    row, engine, side, rnd, path = line.rstrip("\n").split("\t")
    r = json.load(open(path))
    r["round"] = int(rnd)
    raw.append(r)
    runs.setdefault((int(row), side), []).append(r)

def median_of(row, side, key="images_per_s"):
    rs = runs.get((row, side), [])
    vals = [r[key] for r in rs if r.get(key) is not None]
    return statistics.median(vals) if vals else None

def fmt(v, digits=1):
    return "-" if v is None else f"{v:,.{digits}f}"

rows, versions = [], {}
for i, spec in enumerate(workloads):
    w, arch, width, batch, k = spec.split()
    if k == "-":
        k = {"pgd-eval": "20", "pgd-train-step": "7"}.get(w, "-")
    label = w + (f" K={k}" if k != "-" else "")
    row = {"workload": w, "attack_steps": None if k == "-" else int(k), "arch": arch,
           "width": float(width), "batch": int(batch),
           "attack_mode": "careful" if w != "train-step" else None,
           "engine_images_per_s": median_of(i, "engine"),
           "pytorch_images_per_s": {v: median_of(i, v) for v in variants},
           "rounds": {s: len(runs.get((i, s), [])) for s in ["engine"] + variants}}
    e, eager = row["engine_images_per_s"], row["pytorch_images_per_s"].get("eager")
    row["ratio_vs_eager"] = e / eager if e and eager else None
    done = {v: x for v, x in row["pytorch_images_per_s"].items() if x}
    if cuda and done:
        best = max(done, key=done.get)
        row["best_variant"] = best
        row["ratio_vs_best"] = e / done[best] if e else None
    row["label"] = label
    rows.append(row)
for r in raw:
    versions.setdefault(r["engine"], r.get("version"))

head = ["workload", "arch", "width", "batch", "engine images/s"]
head += [f"PyTorch {v} images/s" for v in variants]
head += ["engine / PyTorch eager"]
if cuda:
    head += ["engine / best PyTorch"]
lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
for r in rows:
    cells = [r["label"], r["arch"], f"{r['width']:g}", str(r["batch"]),
             fmt(r["engine_images_per_s"])]
    cells += [fmt(r["pytorch_images_per_s"][v]) for v in variants]
    cells += [fmt(r["ratio_vs_eager"], 2)]
    if cuda:
        best = r.get("best_variant")
        cells += [f"{fmt(r.get('ratio_vs_best'), 2)} ({best})" if best else "-"]
    lines.append("| " + " | ".join(cells) + " |")
table = "\n".join(lines) + "\n"
open(table_path, "w").write(table)
print(table, end="")

machine = {"cpu": env["BC_CPU"], "threads": int(env["BC_THREADS"]),
           "hardware_threads": int(env["BC_NPROC"]), "gpu": env["BC_GPU"] or None}
doc = {"command": env["BC_COMMAND"], "date": datetime.datetime.now(datetime.timezone.utc)
       .isoformat(timespec="seconds"), "commit": env["BC_COMMIT"], "device": env["BC_DEVICE"],
       "rounds": int(env["BC_ROUNDS"]), "quick": env["BC_QUICK"] == "1", "machine": machine,
       "versions": versions, "rows": rows, "results": raw, "table_markdown": table}
tmp = summary + ".tmp"
with open(tmp, "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
os.replace(tmp, summary)
with open(os.path.join(os.path.dirname(table_path), "versions.txt"), "w") as f:
    f.write(f"robustprior {versions.get('robustprior', '?')}, "
            f"PyTorch {versions.get('pytorch', '?')}\n")
PY
echo "bench_compare: wrote $SUMMARY" >&2

if [[ $RECORD == 1 ]]; then
  if [[ $failures -gt 0 ]]; then
    echo "bench_compare: $failures runs failed: not recording" >&2
    exit 1
  fi
  machine="$CPU_MODEL, $THREADS of $(nproc) hardware threads"
  if [[ -n "$GPU_NAME" ]]; then machine="$GPU_NAME; host $machine"; fi
  {
    echo
    echo "## Engine vs PyTorch throughput ($DEVICE)"
    echo
    echo "$(date -u +%Y-%m-%d), commit $COMMIT, $(cat "$RAW/versions.txt"):"
    echo "\`$COMMAND\`"
    echo
    echo "Machine: $machine. Each side's figure is the median of $ROUNDS interleaved rounds,"
    echo "each the median of its timed runs; attacks in the careful mode (BN eval, input gradients"
    echo "only) on both sides; fp32 with TF32 off unless the variant says otherwise."
    echo
    cat "$TABLE"
  } >>"$ROOT/bench/RESULTS.md"
  echo "bench_compare: appended the table to bench/RESULTS.md" >&2
fi
if [[ $failures -gt 0 ]]; then
  echo "bench_compare: $failures of $total runs failed (see above)" >&2
  exit 1
fi
