#!/usr/bin/env python3
"""Writes the PyTorch checkpoint fixtures the C++ reader is tested against.

Needs PyTorch and dill (pip install dill); not run by CI, which reads the committed files.
Each fixture set is a function taking the output root and writing its files under a folder
of it; FIXTURE_SETS lists them, and --set picks some. Every checkpoint NAME.pt comes with
NAME.json: the format, each tensor's dtype, shape, strides, storage offset and values (as
float64, exact for every dtype here), which tensors share a storage, and the scalars, named
as the reader names them (dict keys joined with '.', list/tuple items by index).

    python3 tools/make_pt_fixtures.py [--out tests/weights/fixtures] [--set pt ...]
"""

import argparse
import collections
import json
import os
import sys

import torch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DTYPES = {
    torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL",
}


def key_text(key):
    """The reader's name for a dict key (None: a key it does not name)."""
    if isinstance(key, bool):
        return "True" if key else "False"
    if isinstance(key, (str, int)):
        return str(key)
    if key is None:
        return "None"
    return None


def flatten(obj, name="", tensors=None, scalars=None):
    """Tensors and scalars reachable through plain dicts, lists and tuples, as the reader names them.

    Exact types only: a Counter or a namedtuple is an object the reader keeps opaque.
    """
    tensors = {} if tensors is None else tensors
    scalars = {} if scalars is None else scalars
    prefix = name + "." if name else ""
    if isinstance(obj, torch.Tensor):
        tensors[name] = obj
    elif obj is None or type(obj) in (bool, int, float, str):
        scalars[name] = obj
    elif type(obj) in (dict, collections.OrderedDict):
        for k, v in obj.items():
            text = key_text(k)
            if text is not None:
                flatten(v, prefix + text, tensors, scalars)
    elif type(obj) in (list, tuple):
        for i, v in enumerate(obj):
            flatten(v, prefix + str(i), tensors, scalars)
    return tensors, scalars


def expected(obj, fmt):
    tensors, scalars = flatten(obj)
    out = {"format": fmt, "tensors": {}, "scalars": scalars, "same_storage": []}
    by_storage = collections.defaultdict(list)
    for name, t in sorted(tensors.items()):
        t = t.detach()
        out["tensors"][name] = {
            "dtype": DTYPES[t.dtype],
            "shape": list(t.shape),
            "strides": list(t.stride()),
            "storage_offset": t.storage_offset(),
            "values": t.double().flatten().tolist(),
        }
        by_storage[t.untyped_storage().data_ptr()].append(name)
    out["same_storage"] = [names for names in by_storage.values() if len(names) > 1]
    return out


def save(directory, name, obj, fmt, **kwargs):
    path = os.path.join(directory, name + ".pt")
    torch.save(obj, path, _use_new_zipfile_serialization=(fmt == "zip"), **kwargs)
    with open(os.path.join(directory, name + ".json"), "w") as f:
        json.dump(expected(obj, fmt), f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"{path}: {os.path.getsize(path)} bytes")


def state_dict(seed):
    """A small state dict with every dtype, a strided view and tensors sharing a storage."""
    g = torch.Generator().manual_seed(seed)
    sd = collections.OrderedDict()
    sd["conv1.weight"] = torch.randn(4, 3, 3, 3, generator=g)
    sd["bn1.weight"] = torch.rand(4, generator=g) + 0.5
    sd["bn1.bias"] = torch.randn(4, generator=g)
    sd["bn1.running_mean"] = torch.randn(4, generator=g)
    sd["bn1.running_var"] = torch.rand(4, generator=g) + 0.5
    sd["bn1.num_batches_tracked"] = torch.tensor(1234567, dtype=torch.int64)
    sd["fc.weight"] = torch.randn(3, 4, generator=g).half()
    sd["fc.bias"] = torch.randn(3, generator=g).bfloat16()
    sd["extra.f64"] = torch.randn(2, 3, generator=g, dtype=torch.float64)
    base = torch.randn(5, 6, generator=g)
    sd["view.base"] = base
    sd["view.transposed"] = base[1:4, 2:5].t()  # offset 8, strides (1, 6)
    sd["view.row"] = base[2]                     # offset 12, shares the storage
    sd["misc.i32"] = torch.randint(-1000, 1000, (5,), generator=g, dtype=torch.int32)
    sd["misc.i16"] = torch.randint(-300, 300, (2, 2), generator=g, dtype=torch.int16)
    sd["misc.i8"] = torch.randint(-100, 100, (3,), generator=g, dtype=torch.int8)
    sd["misc.u8"] = torch.randint(0, 255, (4,), generator=g, dtype=torch.uint8)
    sd["misc.bool"] = torch.tensor([True, False, True])
    sd["misc.i64"] = torch.tensor([-(2 ** 40), 3, 2 ** 33], dtype=torch.int64)
    return sd


def training_state(seed):
    """{'model', 'optimizer', 'schedule', 'epoch'} as the robustness library saves them."""
    sd = state_dict(seed)
    params = [torch.nn.Parameter(sd["conv1.weight"].clone()), torch.nn.Parameter(sd["bn1.bias"].clone())]
    opt = torch.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 5], gamma=0.1)
    for p in params:
        p.grad = torch.ones_like(p) * 0.25
    opt.step()
    sched.step()
    return {"model": sd, "optimizer": opt.state_dict(), "schedule": sched.state_dict(),
            "epoch": 7, "arch": "resnet50", "param": params[1]}


def make_pt(root):
    import dill

    d = os.path.join(root, "pt")
    os.makedirs(d, exist_ok=True)
    save(d, "state_dict_zip", state_dict(1), "zip")
    save(d, "state_dict_legacy", state_dict(2), "legacy")
    save(d, "state_dict_legacy_dill", state_dict(3), "legacy", pickle_module=dill)
    save(d, "state_dict_zip_proto4", state_dict(4), "zip", pickle_protocol=4)
    save(d, "state_dict_legacy_proto5", state_dict(5), "legacy", pickle_protocol=5)
    save(d, "training_zip", training_state(6), "zip")
    save(d, "training_legacy_dill", training_state(7), "legacy", pickle_module=dill)
    # A function pickled by value beside the tensors: the reader keeps it opaque, never runs it.
    small = collections.OrderedDict(w=torch.arange(6, dtype=torch.float32).reshape(2, 3) / 7)
    marker = "/tmp/robustprior_pt_fixture_executed"
    fn = lambda x: open(marker, "w").write(str(x))  # noqa: E731
    save(d, "function_legacy_dill", {"model": small, "fn": fn, "epoch": 3}, "legacy",
         pickle_module=dill)
    save(d, "function_zip_dill", {"model": small, "fn": fn, "epoch": 4}, "zip", pickle_module=dill)


from pt_model_fixtures import make_model_fixtures  # noqa: E402 (model fixtures, pt_models/)

FIXTURE_SETS = {"pt": make_pt, "pt_models": make_model_fixtures}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(REPO, "tests", "weights", "fixtures"),
                        help="root folder of the fixture sets (default: %(default)s)")
    parser.add_argument("--set", action="append", choices=sorted(FIXTURE_SETS),
                        help="fixture set to write (repeatable; default: all)")
    args = parser.parse_args(argv)
    for name in args.set or sorted(FIXTURE_SETS):
        FIXTURE_SETS[name](args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
