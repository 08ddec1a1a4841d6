#!/usr/bin/env python3
"""PyTorch baseline of `robustprior bench`: the same workloads, flags and JSON.

    python3 bench/pytorch/bench_torch.py --workload train-step --arch resnet18 --width 0.25 \
        --batch 128 --device cpu --threads 2 --warmup 2 --iters 5 --repeats 3 --json out.json
    python3 bench/pytorch/bench_torch.py --check-params [--against CKPT.safetensors ...]

Workloads (inputs: 32x32x3 uniform in [0, 1], labels uniform in [0, 10), fixed seed):
  train-step      forward (BN train mode), mean cross-entropy, backward to the parameters,
                  SGD lr 0.1, momentum 0.9, weight decay 5e-4 (torch.optim.SGD defaults otherwise)
  pgd-train-step  PGD-K L2 (eps 0.5, step 2.5 eps / K, no random start, last iterate; BN eval),
                  then a train-step on the adversarial batch          (K = --attack-steps, 7)
  fgsm-rs-step    fast_adversarial's FGSM from a uniform random start (Linf eps 8/255, step
                  1.25 eps, clip to [0, 1]; BN eval), then a train-step
  pgd-eval        PGD-K L2 as above, no parameter update                    (K default 20)
  invert-iter     one inversion iteration (batch 10 unless --batch): R(x), the pooled features
                  before `linear`; loss sum_i ||R(x_i) - r_i|| / ||r_i||; input gradient; an L2
                  normalized descent step of 1, projection to the eps-1000 ball around the
                  seeds, clip to [0, 1]
The L2 step and projection are the engine's (kernels/cpu/perturb.h): x + a g / (||g|| + 1e-10),
then delta scaled by min(1, eps / ||delta||), then clip; the attack loss is summed over the batch.

Variants: eager (fp32 NCHW; the only one on CPU); on CUDA also amp-bf16-cl (autocast bf16,
channels_last model and inputs) and compile (torch.compile of the model, fp32). The fp32
variants turn TF32 off (cuDNN and matmul), as the engine's default; cudnn.benchmark is on.
Attack modes (attack workloads and invert-iter): careful (the engine's way) freezes the
parameters and takes torch.autograd.grad of the loss to the input only; full (the common way)
calls loss.backward() with parameter gradients enabled (they are discarded). Both run BN in eval
mode, so the two compute the same attack.

JSON: the fields of `robustprior bench --json` ("engine": "pytorch", "variant": the variant,
"tf32": false), plus "attack_mode" (null for train-step). attack_steps is K for the PGD
workloads, 1 for fgsm-rs-step, null for train-step and invert-iter; invert-iter starts from the
seeds each iteration, as the engine's does.

Timing: `warmup` iterations, then `repeats` runs of `iters` iterations; on CUDA, CUDA events
around each run and a synchronize at its end only; the median run gives seconds_per_iter.

Exit status: 0 done, 1 a check failed, 2 bad flags, 3 PyTorch is not installed.
"""

import argparse
import datetime
import json
import math
import os
import statistics
import struct
import sys
import time
import warnings

WORKLOADS = ("train-step", "pgd-train-step", "fgsm-rs-step", "pgd-eval", "invert-iter")
ATTACKS = ("pgd-train-step", "fgsm-rs-step", "pgd-eval", "invert-iter")
VARIANTS = ("eager", "amp-bf16-cl", "compile")
# num_parameters() of the engine's models at width 1, 10 classes (tests/models/test_models.cpp):
# parameters only, not the BN running statistics nor the normalizer's buffers.
ENGINE_PARAMS = {"resnet18": 11173962, "resnet34": 21282122, "resnet50": 23520842,
                 "preact_resnet18": 11172170}


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="PyTorch side of `robustprior bench` (same flags and JSON).")
    p.add_argument("--workload", choices=WORKLOADS, default="train-step")
    p.add_argument("--arch", choices=tuple(ENGINE_PARAMS), default="resnet18")
    p.add_argument("--width", type=float, default=1.0)
    p.add_argument("--batch", type=int, default=None,
                   help="batch size (default 128; 10 for invert-iter)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: every available core)")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--attack-steps", type=int, default=None,
                   help="PGD steps K (default 7 for pgd-train-step, 20 for pgd-eval)")
    p.add_argument("--variant", choices=VARIANTS, default="eager")
    p.add_argument("--attack-mode", choices=("careful", "full"), default="careful")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None, help="write the result object to this file")
    p.add_argument("--quiet", action="store_true", help="print nothing on success")
    p.add_argument("--check-params", action="store_true",
                   help="print parameter counts against the engine's and exit")
    p.add_argument("--against", nargs="*", default=[], metavar="CKPT",
                   help="with --check-params: engine checkpoints (.safetensors) whose tensor "
                        "names and shapes must equal the model's")
    a = p.parse_args(argv)
    if a.check_params:
        return a
    if a.batch is None:
        a.batch = 10 if a.workload == "invert-iter" else 128
    errors = []
    if a.width <= 0 or a.width > 64:
        errors.append(f"--width must be in (0, 64], found {a.width}")
    for name in ("batch", "iters", "repeats"):
        if getattr(a, name) < 1:
            errors.append(f"--{name} must be >= 1, found {getattr(a, name)}")
    if a.warmup < 0:
        errors.append(f"--warmup must be >= 0, found {a.warmup}")
    if a.threads < 0:
        errors.append(f"--threads must be >= 0, found {a.threads}")
    if a.attack_steps is not None and a.attack_steps < 1:
        errors.append(f"--attack-steps must be >= 1, found {a.attack_steps}")
    if a.attack_steps is not None and a.workload not in ("pgd-train-step", "pgd-eval"):
        errors.append(f"--attack-steps applies to pgd-train-step and pgd-eval, not {a.workload}")
    if a.device == "cpu" and a.variant != "eager":
        errors.append(f"--variant {a.variant} is for --device cuda; on cpu only eager runs")
    if errors:
        for e in errors:
            print(f"bench_torch: {e}", file=sys.stderr)
        sys.exit(2)
    return a


def import_torch():
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*NumPy.*")  # numpy is not needed
            import torch  # noqa: F401
    except ImportError as e:
        print(f"bench_torch: PyTorch is not importable ({e}).\n"
              f"  Install it with:  python3 -m pip install -r "
              f"{os.path.join(os.path.dirname(os.path.abspath(__file__)), 'requirements.txt')}\n"
              f"  (CUDA wheels: see https://pytorch.org/get-started/locally/)", file=sys.stderr)
        sys.exit(3)
    return torch


# ---------------------------------------------------------------------------------------------
# --check-params

def safetensors_header(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    return header.pop("__metadata__", {}) or {}, header


def check_params(args, torch):
    from models import make_model, num_parameters
    ok = True
    widths = sorted({1.0, args.width})
    print(f"{'arch':<16} {'width':>6} {'parameters':>12} {'buffers':>9} {'engine (width 1)':>17}")
    for arch, expected in ENGINE_PARAMS.items():
        for w in widths:
            m = make_model(arch, w)
            n = num_parameters(m)
            nbuf = sum(b.numel() for k, b in m.named_buffers()
                       if not k.endswith("num_batches_tracked"))
            verdict = ""
            if w == 1.0:
                same = n == expected
                ok &= same
                verdict = f"{expected:>17,} {'equal' if same else 'DIFFERENT'}"
            print(f"{arch:<16} {w:>6g} {n:>12,} {nbuf:>9,} {verdict}")
    for path in args.against:
        meta, header = safetensors_header(path)
        arch, width = meta.get("arch"), float(meta.get("width", "nan"))
        if arch not in ENGINE_PARAMS or not math.isfinite(width):
            print(f"{path}: no arch/width in its metadata (an engine checkpoint?)")
            ok = False
            continue
        ours = {k: list(v.shape) for k, v in make_model(arch, width).state_dict().items()}
        theirs = {k: v["shape"] for k, v in header.items() if not k.startswith("optimizer.")}
        missing = sorted(set(theirs) - set(ours))
        extra = sorted(set(ours) - set(theirs))
        shapes = sorted(k for k in set(ours) & set(theirs) if ours[k] != theirs[k])
        same = not (missing or extra or shapes)
        ok &= same
        print(f"{path}: {arch} width {width:g}: {len(theirs)} engine tensors, {len(ours)} PyTorch "
              f"state_dict entries: {'names and shapes equal' if same else 'DIFFERENT'}")
        for label, keys in (("only in the engine", missing), ("only in PyTorch", extra),
                            ("shape differs", shapes)):
            for k in keys[:20]:
                print(f"  {label}: {k} {theirs.get(k)} {ours.get(k)}")
    return 0 if ok else 1


# ---------------------------------------------------------------------------------------------
# The workloads

def l2_update(torch, x, g, x0, step, eps):
    """x + step g / (||g|| + 1e-10), projected to the eps ball around x0, clipped to [0, 1]."""
    gn = g.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
    x = x + step * g / (gn + 1e-10)
    d = x - x0
    dn = d.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
    return torch.clamp(x0 + d * torch.clamp(eps / dn, max=1.0), 0, 1)


class Bench:
    def __init__(self, args, torch):
        import contextlib
        import torch.nn.functional as F
        from models import make_model
        self.torch, self.F, self.a = torch, F, args
        dev = torch.device(args.device)
        torch.manual_seed(args.seed)
        self.model = make_model(args.arch, args.width).to(dev)
        self.cl = args.variant == "amp-bf16-cl"
        fmt = torch.channels_last if self.cl else torch.contiguous_format
        if self.cl:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.fmodel = torch.compile(self.model) if args.variant == "compile" else self.model
        if self.cl:
            self.autocast = lambda: torch.autocast(args.device, dtype=torch.bfloat16)
        else:
            self.autocast = contextlib.nullcontext
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.1, momentum=0.9,
                                   weight_decay=5e-4)
        b = args.batch
        self.x = torch.rand(b, 3, 32, 32, device=dev).contiguous(memory_format=fmt)
        self.y = torch.randint(0, 10, (b,), device=dev)
        self.full = args.attack_mode == "full"
        if args.workload == "invert-iter":
            with torch.no_grad():
                self.model.eval()
                other = torch.rand(b, 3, 32, 32, device=dev).contiguous(memory_format=fmt)
                self.targets = self.model(other, with_logits=False).float()
                self.target_norms = self.targets.norm(dim=1)
        self.trains = args.workload in ("train-step", "pgd-train-step", "fgsm-rs-step")
        self.step = {"train-step": lambda: self.train_step(self.x),
                     "pgd-train-step": self.pgd_train_step,
                     "fgsm-rs-step": self.fgsm_rs_step,
                     "pgd-eval": self.pgd_eval,
                     "invert-iter": self.invert_iter}[args.workload]

    def train_step(self, x):
        F = self.F
        self.model.train()
        with self.autocast():
            loss = F.cross_entropy(self.fmodel(x), self.y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return loss

    # The attacks: BN in eval mode; careful: input gradient only, parameters frozen.
    def begin_attack(self):
        self.model.eval()
        if self.full:
            self.model.zero_grad(set_to_none=True)
        else:
            self.model.requires_grad_(False)

    def end_attack(self):
        if not self.full and self.trains:
            self.model.requires_grad_(True)

    def input_grad(self, x, loss_fn):
        xa = x.detach().requires_grad_(True)
        with self.autocast():
            loss = loss_fn(xa)
        if self.full:
            loss.backward()
            return xa.grad
        return self.torch.autograd.grad(loss, xa)[0]

    def ce_sum(self, xa):
        return self.F.cross_entropy(self.fmodel(xa), self.y, reduction="sum")

    def pgd_l2(self, x0, steps, eps=0.5):
        step = 2.5 * eps / steps
        x = x0
        self.begin_attack()
        for _ in range(steps):
            g = self.input_grad(x, self.ce_sum)
            with self.torch.no_grad():
                x = l2_update(self.torch, x, g, x0, step, eps)
        self.end_attack()
        return x

    def pgd_eval(self):
        return self.pgd_l2(self.x, self.a.attack_steps)

    def pgd_train_step(self):
        return self.train_step(self.pgd_l2(self.x, self.a.attack_steps))

    def fgsm_rs_step(self):
        torch, x = self.torch, self.x
        eps = 8.0 / 255
        alpha = 1.25 * eps
        with torch.no_grad():
            delta = torch.empty_like(x).uniform_(-eps, eps)
            delta = torch.max(torch.min(delta, 1 - x), -x)  # x + delta in [0, 1]
        self.begin_attack()
        g = self.input_grad(x + delta, self.ce_sum)
        self.end_attack()
        with torch.no_grad():
            delta = torch.clamp(delta + alpha * torch.sign(g), -eps, eps)
            delta = torch.max(torch.min(delta, 1 - x), -x)
        return self.train_step(x + delta)

    def invert_iter(self):
        def loss_fn(xa):
            rep = self.fmodel(xa, with_logits=False).float()
            return ((rep - self.targets).norm(dim=1) / self.target_norms).sum()

        # From the seeds each call, as the engine's one-iteration attack does.
        self.begin_attack()
        g = self.input_grad(self.x, loss_fn)
        self.end_attack()
        with self.torch.no_grad():
            return l2_update(self.torch, self.x, g, self.x, -1.0, 1000.0)

    def run(self):
        torch, a = self.torch, self.a
        cuda = a.device == "cuda"
        for _ in range(a.warmup):
            self.step()
        if cuda:
            torch.cuda.synchronize()
        seconds = []
        for _ in range(a.repeats):
            if cuda:
                start = torch.cuda.Event(enable_timing=True)
                end = torch.cuda.Event(enable_timing=True)
                start.record()
                for _ in range(a.iters):
                    self.step()
                end.record()
                end.synchronize()
                seconds.append(start.elapsed_time(end) / 1000.0)
            else:
                t0 = time.perf_counter()
                for _ in range(a.iters):
                    self.step()
                seconds.append(time.perf_counter() - t0)
        finite = all(bool(torch.isfinite(p).all()) for p in self.model.parameters())
        return seconds, finite


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    torch = import_torch()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    if args.check_params:
        return check_params(args, torch)
    threads = args.threads or len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already fixed once parallel work has started; nothing has here
    if args.device == "cuda":
        if not torch.cuda.is_available():
            print("bench_torch: --device cuda, but torch.cuda.is_available() is False "
                  f"(torch {torch.__version__}, built for CUDA {torch.version.cuda})",
                  file=sys.stderr)
            return 2
        torch.backends.cudnn.benchmark = True
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    if args.workload in ("pgd-train-step", "pgd-eval"):
        if args.attack_steps is None:
            args.attack_steps = 7 if args.workload == "pgd-train-step" else 20
        k = args.attack_steps
    elif args.workload == "fgsm-rs-step":
        args.attack_steps = k = 1
    elif args.workload == "invert-iter":
        args.attack_steps, k = None, 1  # image-iterations/s = images/s
    else:
        args.attack_steps, k = None, None

    bench = Bench(args, torch)
    seconds, finite = bench.run()
    spi = statistics.median(seconds) / args.iters
    result = {
        "engine": "pytorch",
        "variant": args.variant,
        "workload": args.workload,
        "arch": args.arch,
        "width": args.width,
        "batch": args.batch,
        "device": args.device,
        "threads": threads if args.device == "cpu" else 0,
        "tf32": False,
        "warmup": args.warmup,
        "iters": args.iters,
        "repeats": args.repeats,
        "attack_steps": args.attack_steps,
        "seconds_per_iter": spi,
        "repeat_seconds": seconds,
        "images_per_s": args.batch / spi,
        "image_iterations_per_s": None if k is None else args.batch * k / spi,
        "version": torch.__version__,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "attack_mode": args.attack_mode if args.workload in ATTACKS else None,
    }
    if args.json:
        d = os.path.dirname(os.path.abspath(args.json))
        os.makedirs(d, exist_ok=True)
        tmp = args.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
        os.replace(tmp, args.json)
    if not finite:
        print("bench_torch: warning: the parameters became non-finite during the run "
              "(timings of NaN arithmetic)", file=sys.stderr)
    if not args.quiet:
        extra = "" if k is None else f", {result['image_iterations_per_s']:.1f} image-iterations/s"
        print(f"pytorch {args.variant} {args.workload} {args.arch} width {args.width:g} batch "
              f"{args.batch} {args.device} {threads} threads: {spi * 1e3:.2f} ms/iter, "
              f"{result['images_per_s']:.1f} images/s{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
