#!/usr/bin/env python3
"""The engine's AutoAttack against an independent implementation, on the same weights and images.

    python3 bench/pytorch/compare_autoattack.py --checkpoint CKPT.safetensors \
        --data /path/to/cifar-10-batches-bin --n 100 --eps 0.5 \
        --engine-json AA.json [--engine-pgd-json PGD20.json] [--engine-clean-json CLEAN.json] \
        [--steps 100] [--wait S] --out compare.json

The PyTorch side: the checkpoint's tensors loaded into the matching module of models.py (same
parameter names; the normalization, clamp then (x - mean) / std, inside the model from the
checkpoint's metadata, so the attacks see [0, 1] pixels), BN in eval mode, the first N images
of CIFAR-10's test_batch.bin (the engine's `--subset N` order), then torchattacks' AutoAttack
(version 'standard', L2 or Linf, n_classes 10, seed 0): APGD-CE, APGD-T, FAB-T, Square run in
sequence, each on the images the earlier ones left correct, exactly as its MultiAttack does,
but one at a time so the per-attack breakdown is known. torchattacks 3.5.1's standard version
gives APGD, APGD-T and FAB 10 iterations (its defaults; the authors' package and the engine use
100); --steps overrides that count for the three.

The engine side is read from `robustprior eval --adv --attack autoattack --json` (per-example
outcomes), optionally `--attack pgd` (PGD-K, per-example outcomes) and a clean `eval --json`
(its mean loss checks the logits). They are read after the PyTorch side has run, so the engine
can run beside it: --wait S waits up to S seconds for them. The script prints a table and
writes it as JSON, each example's breaking attack on both sides included.

Checks (exit status 1 when one fails): the clean predictions agree example by example with the
engine's, the clean loss agrees with the engine's within 1e-4 when given, every adversarial
image lies in [0, 1] and within eps (+1e-4) of its original, and the torchattacks images counted
as broken are misclassified when re-evaluated; the engine's AutoAttack robust accuracy is not
above its PGD's.

Exit status: 0 done, 1 a check failed, 2 bad input, 3 PyTorch or torchattacks is missing.
"""

import argparse
import json
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

DTYPES = {"F32": "float32", "F64": "float64", "I64": "int64", "I32": "int32"}


def fail_input(msg):
    print(f"compare_autoattack: {msg}", file=sys.stderr)
    sys.exit(2)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", required=True, help="engine checkpoint (.safetensors)")
    p.add_argument("--data", required=True, help="CIFAR-10 binary directory (test_batch.bin)")
    p.add_argument("--n", type=int, default=100, help="first N test images")
    p.add_argument("--eps", type=float, default=0.5, help="radius of the threat model")
    p.add_argument("--norm", choices=("L2", "Linf"), default="L2", help="threat model")
    p.add_argument("--steps", type=int, default=0,
                   help="APGD/APGD-T/FAB iterations (0: torchattacks' standard version, 10)")
    p.add_argument("--seed", type=int, default=0, help="torchattacks' seed")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--engine-json", required=True, help="eval --attack autoattack --json output")
    p.add_argument("--engine-pgd-json", help="eval --attack pgd --json output (optional)")
    p.add_argument("--engine-clean-json", help="eval (no --adv) --json output (optional)")
    p.add_argument("--wait", type=int, default=0,
                   help="seconds to wait for the engine's JSON files after the PyTorch side "
                        "(when the engine runs beside it)")
    p.add_argument("--out", required=True, help="where to write the comparison (JSON)")
    a = p.parse_args(argv)
    if a.n < 1 or a.n > 10000:
        fail_input(f"--n must be in [1, 10000], found {a.n}")
    if not a.eps > 0:
        fail_input(f"--eps must be positive, found {a.eps}")
    if a.steps < 0:
        fail_input(f"--steps must be >= 0, found {a.steps}")
    return a


def read_safetensors(path, torch):
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        fail_input(f"{path}: {len(raw)} bytes, shorter than a safetensors header length")
    n = struct.unpack("<Q", raw[:8])[0]
    if 8 + n > len(raw):
        fail_input(f"{path}: header of {n} bytes runs past the file's {len(raw)} bytes")
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {}) or {}
    data = raw[8 + n:]
    tensors = {}
    for name, t in header.items():
        if t["dtype"] not in DTYPES:
            fail_input(f"{path}: tensor '{name}' has dtype {t['dtype']}, expected one of "
                       f"{', '.join(DTYPES)}")
        b, e = t["data_offsets"]
        dtype = getattr(torch, DTYPES[t["dtype"]])
        buf = bytearray(data[b:e])
        x = torch.frombuffer(buf, dtype=dtype) if buf else torch.empty(0, dtype=dtype)
        tensors[name] = x.reshape(t["shape"]).clone()
    return meta, tensors


def load_model(path, torch):
    from models import make_model
    meta, tensors = read_safetensors(path, torch)
    for key in ("arch", "width", "normalization_mean", "normalization_std"):
        if key not in meta:
            fail_input(f"{path}: metadata has no '{key}' (not an engine checkpoint?)")
    model = make_model(meta["arch"], float(meta["width"]), int(meta.get("num_classes", 10)))
    mean = json.loads(meta["normalization_mean"])
    std = json.loads(meta["normalization_std"])
    # The engine stores the normalization in the metadata; the tensors win when present.
    tensors.setdefault("normalizer.new_mean", torch.tensor(mean, dtype=torch.float32))
    tensors.setdefault("normalizer.new_std", torch.tensor(std, dtype=torch.float32))
    # Training state (the optimizer's momentum) is not part of the model.
    tensors = {k: v for k, v in tensors.items() if not k.startswith("optimizer.")}
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    if missing or unexpected:
        fail_input(f"{path}: tensors do not match {meta['arch']} width {meta['width']}: "
                   f"missing {missing[:5]}, unexpected {unexpected[:5]}")
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model, meta


def load_cifar_test(directory, n, torch):
    path = os.path.join(directory, "test_batch.bin")
    rec = 1 + 3 * 32 * 32
    try:
        with open(path, "rb") as f:
            raw = f.read(rec * n)
    except OSError as e:
        fail_input(f"{path}: {e.strerror}")
    if len(raw) != rec * n:
        fail_input(f"{path}: {len(raw) // rec} records, expected at least {n}")
    u8 = torch.frombuffer(bytearray(raw), dtype=torch.uint8).reshape(n, rec)
    labels = u8[:, 0].long()
    images = u8[:, 1:].reshape(n, 3, 32, 32).float() / 255.0
    return images, labels


def wait_for(paths, seconds):
    deadline = time.time() + seconds
    while True:
        missing = [q for q in paths if not os.path.exists(q)]
        if not missing:
            return
        if time.time() >= deadline:
            fail_input(f"engine results not found: {', '.join(missing)}"
                       + (f" (waited {seconds} s)" if seconds else ""))
        time.sleep(2)


def engine_outcomes(path, n, what):
    with open(path) as f:
        j = json.load(f)
    if "outcomes" not in j:
        fail_input(f"{path}: no per-example 'outcomes' ({what}: run eval --adv --attack ...)")
    if j["examples"] != n:
        fail_input(f"{path}: {j['examples']} examples, expected --n {n}")
    return j


def run_torchattacks(model, x, y, args, torch, torchattacks):
    aa = torchattacks.AutoAttack(model, norm=args.norm, eps=args.eps, version="standard",
                                 n_classes=10, seed=args.seed)
    attacks = aa._autoattack.attacks  # the standard sequence as torchattacks configures it
    if args.steps:
        for atk in attacks[:3]:
            atk.steps = args.steps
    names = ["apgd-ce", "apgd-t", "fab-t", "square"]
    with torch.no_grad():
        pred = model(x).argmax(1)
    remaining = torch.nonzero(pred == y).flatten()
    broken_by = [None] * len(y)
    adv = x.clone()
    reports = []
    for name, atk in zip(names, attacks):
        attacked = len(remaining)
        t0 = time.time()
        if attacked:
            xa = atk(x[remaining], y[remaining])
            with torch.no_grad():
                ok = model(xa).argmax(1) == y[remaining]
            for k in torch.nonzero(~ok).flatten().tolist():
                i = remaining[k].item()
                broken_by[i] = name
                adv[i] = xa[k]
            remaining = remaining[ok]
        reports.append({"name": name, "attacked": attacked, "broken": attacked - len(remaining),
                        "robust_accuracy": len(remaining) / len(y),
                        "seconds": time.time() - t0,
                        "steps": getattr(atk, "steps", None),
                        "n_queries": getattr(atk, "n_queries", None)})
        print(f"  torchattacks {name:8s} attacked {attacked:4d} broken "
              f"{attacked - len(remaining):4d} robust {len(remaining) / len(y):7.2%} "
              f"{time.time() - t0:7.1f} s", flush=True)
    return pred, broken_by, adv, reports


def main(argv=None):
    args = parse_args(argv)
    try:
        import torch
        import torchattacks
    except ImportError as e:
        print(f"compare_autoattack: {e}", file=sys.stderr)
        return 3
    torch.set_num_threads(args.threads)
    model, meta = load_model(args.checkpoint, torch)
    x, y = load_cifar_test(args.data, args.n, torch)
    failures = []

    with torch.no_grad():
        logits = model(x)
    clean_loss = torch.nn.functional.cross_entropy(logits, y).item()

    t0 = time.time()
    pred, broken_by, adv, reports = run_torchattacks(model, x, y, args, torch, torchattacks)
    ta_seconds = time.time() - t0

    # The engine's results are read only now, so that both sides can run side by side.
    paths = [q for q in (args.engine_json, args.engine_pgd_json, args.engine_clean_json) if q]
    wait_for(paths, args.wait)
    eng = engine_outcomes(args.engine_json, args.n, "AutoAttack")
    pgd = engine_outcomes(args.engine_pgd_json, args.n, "PGD") if args.engine_pgd_json else None
    if args.engine_clean_json:
        with open(args.engine_clean_json) as f:
            cj = json.load(f)
        if cj.get("examples") != args.n:
            fail_input(f"{args.engine_clean_json}: {cj.get('examples')} examples, expected {args.n}")
        if abs(cj["clean_loss"] - clean_loss) > 1e-4:
            failures.append(f"clean loss: engine {cj['clean_loss']:.6f}, torch {clean_loss:.6f}")

    labels_engine = [o["label"] for o in eng["outcomes"]]
    if labels_engine != y.tolist():
        fail_input(f"{args.engine_json}: labels differ from {args.data}'s first {args.n}")

    # The adversarial images: in the box, within eps, and misclassified where counted broken.
    d = (adv - x).flatten(1)
    norms = d.norm(dim=1) if args.norm == "L2" else d.abs().amax(dim=1)
    if adv.min() < 0 or adv.max() > 1:
        failures.append("torchattacks returned pixels outside [0, 1]")
    if norms.max().item() > args.eps + 1e-4:
        failures.append(f"torchattacks perturbation of norm {norms.max().item():.6f} > eps")
    with torch.no_grad():
        adv_pred = model(adv).argmax(1)
    for i, b in enumerate(broken_by):
        if b is not None and adv_pred[i] == y[i]:
            failures.append(f"image {i}: counted broken by {b} but classified correctly")

    clean_t = (pred == y).tolist()
    clean_e = [o["clean_correct"] for o in eng["outcomes"]]
    clean_mismatch = [i for i in range(args.n) if clean_t[i] != clean_e[i]]
    if clean_mismatch:
        failures.append(f"clean correctness differs on images {clean_mismatch[:10]}")

    rob_t = [clean_t[i] and broken_by[i] is None for i in range(args.n)]
    rob_e = [o["clean_correct"] and o["broken_by"] is None for o in eng["outcomes"]]
    both_robust = sum(a and b for a, b in zip(rob_e, rob_t))
    agreement = {
        "clean_correct_both": sum(a and b for a, b in zip(clean_e, clean_t)),
        "robust_both": both_robust,
        "broken_both": sum(c and not a and not b for a, b, c in zip(rob_e, rob_t, clean_e)),
        "robust_engine_only": sum(a and not b for a, b in zip(rob_e, rob_t)),
        "robust_torchattacks_only": sum(b and not a for a, b in zip(rob_e, rob_t)),
        "broken_both_by_the_same_attack": sum(
            o["broken_by"] is not None and o["broken_by"] == b
            for o, b in zip(eng["outcomes"], broken_by)),
    }
    result = {
        "checkpoint": args.checkpoint, "arch": meta["arch"], "width": float(meta["width"]),
        "n": args.n, "norm": args.norm, "eps": args.eps,
        "torch_version": torch.__version__,
        "torchattacks_version": getattr(torchattacks, "__version__", "?"),
        "clean_accuracy": {"engine": eng["clean_accuracy"], "torch": sum(clean_t) / args.n},
        "clean_loss_torch": clean_loss,
        "robust_accuracy": {"engine_autoattack": eng["robust_accuracy"],
                            "torchattacks_autoattack": sum(rob_t) / args.n},
        "engine_attacks": eng["attacks"],
        "engine_attack_config": eng["attack"],
        "torchattacks_attacks": reports,
        "torchattacks_seconds": ta_seconds,
        "engine_seconds": eng["seconds"],
        "agreement": agreement,
        "torchattacks_max_norm": norms.max().item(),
        "failures": failures,
        "broken_by": {"engine": [o["broken_by"] for o in eng["outcomes"]],
                      "torchattacks": broken_by},
    }
    if args.engine_clean_json:
        result["clean_loss_engine"] = cj["clean_loss"]
    if pgd is not None:
        rob_p = [o["clean_correct"] and o["broken_by"] is None for o in pgd["outcomes"]]
        result["robust_accuracy"]["engine_pgd"] = pgd["robust_accuracy"]
        result["engine_pgd_attack_config"] = pgd["attack"]
        # AutoAttack runs APGD-CE first, so an image PGD breaks and AutoAttack does not is a
        # weakness of the sequence, worth listing.
        result["agreement"]["robust_autoattack_broken_pgd"] = [
            i for i in range(args.n) if rob_e[i] and not rob_p[i]]
        if eng["robust_accuracy"] > pgd["robust_accuracy"]:
            failures.append(f"engine AutoAttack {eng['robust_accuracy']:.4f} above its PGD "
                            f"{pgd['robust_accuracy']:.4f}")

    print(f"\n{meta['arch']} width {meta['width']}, first {args.n} CIFAR-10 test images, "
          f"{args.norm} eps {args.eps}")
    print("| quantity | engine | torchattacks |")
    print("|---|---|---|")
    print(f"| clean accuracy | {eng['clean_accuracy']:.2%} | {sum(clean_t) / args.n:.2%} |")
    print(f"| AutoAttack robust accuracy | {eng['robust_accuracy']:.2%} | "
          f"{sum(rob_t) / args.n:.2%} |")
    if pgd is not None:
        print(f"| PGD-{pgd['attack'].get('steps')} robust accuracy | "
              f"{pgd['robust_accuracy']:.2%} | - |")
    tr = {r["name"]: r for r in reports}
    for r in eng["attacks"]:
        t = tr.get(r["name"], {})
        print(f"| {r['name']}: attacked / broken | {r['attacked']} / {r['broken']} | "
              f"{t.get('attacked', '-')} / {t.get('broken', '-')} |")
    print(f"| seconds | {eng['seconds']:.1f} | {ta_seconds:.1f} |")
    print("agreement: " + ", ".join(f"{k} {v}" for k, v in agreement.items()))
    for f_ in failures:
        print(f"CHECK FAILED: {f_}")
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=1)
    os.replace(tmp, args.out)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
