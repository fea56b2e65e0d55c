"""PyTorch contenders as a child process: JSON lines over stdin/stdout (bench/contenders/torch.mjs).

Node starts `/usr/bin/python3 bench/contenders/torch_child.py --threads N` and sends one JSON
object per line; every request gets exactly one JSON line back, {"ok": true, ...} or
{"ok": false, "error": "..."}. The child times its own loops (time.perf_counter_ns around the
iterations, nothing of the pipe in the figure), so that Node can interleave PyTorch's samples
with klcore's round-robin.

Requests:
  {"op": "info"}                                   versions and thread counts
  {"op": "setup", "id": ID, "workload": W, "params": {...}, "arrays": {name: ARRAY}}
  {"op": "run", "id": ID, "iterations": N}         -> {"ns": elapsed, "value": last value}
  {"op": "call", "id": ID, "method": M, "args": {...}, "arrays": {...}}   workload-specific
  {"op": "dispose", "id": ID}
  {"op": "exit"}
ARRAY = {"dtype": "float32" | "float64" | "int32", "shape": [...], "data": base64 of the
little-endian bytes}; arrays in replies are encoded the same way.

Workloads (W): "vi" (bench/contenders/torch_vi.py), and those of torch_kernels.py: "kl",
"xent", "train".
"""

import argparse
import json
import os
import sys
import time
import traceback

import numpy as np
import torch

import torch_kernels
import torch_vi
from torch_wire import decode, encode, scalar


def make_vi(params, arrays):
    dtype = torch.float64
    if params["target"] == "logisticRegression":
        x, y = arrays["x"].to(dtype), arrays["y"].to(dtype)
        target = torch_vi.LogisticRegression(x, y, params.get("priorScale", 1.0))
    elif params["target"] == "gaussian":
        target = torch_vi.Gaussian(arrays["mean"].to(dtype), arrays["precision"].to(dtype))
    else:
        raise ValueError(f"unknown target {params['target']}")
    return ViWorkload(
        torch_vi.TorchVI(
            target,
            params["family"],
            draws=params.get("draws", 8),
            learning_rate=params.get("learningRate", 0.01),
            seed=params.get("seed", 1),
            stl=params.get("stl", False),
        )
    )


class ViWorkload:
    def __init__(self, vi):
        self.vi = vi

    def iteration(self):
        return self.vi.step()

    def call(self, method, args, arrays):
        if method == "gradient":
            elbo, grad = self.vi.gradient(arrays["theta"], arrays["eps"])
            return {"elbo": scalar(elbo), "arrays": {"gradient": encode(grad)}}
        if method == "theta":
            return {"arrays": {"theta": encode(self.vi.theta())}}
        raise ValueError(f"vi: unknown method {method}")


FACTORIES = {"vi": make_vi, **torch_kernels.FACTORIES}


def blas_library():
    """The BLAS library this process loaded (Debian's torch takes whichever libblas.so.3 the system's
    alternatives point to: the reference BLAS is many times slower than OpenBLAS)."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "/" in line}
        paths = {p for p in paths if "blas" in os.path.basename(p).lower()}
        return sorted(os.path.realpath(p) for p in paths)
    except OSError:
        return []


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    # Both before any tensor work: the interop pool cannot be resized once used.
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)
    workloads = {}
    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            op = req["op"]
            if op == "info":
                reply = {
                    "torch": torch.__version__,
                    "numpy": np.__version__,
                    "python": sys.version.split()[0],
                    "threads": torch.get_num_threads(),
                    "interopThreads": torch.get_num_interop_threads(),
                    "parallel": torch.__config__.parallel_info().splitlines()[:6],
                    "blas": blas_library(),
                }
            elif op == "setup":
                arrays = {k: decode(v) for k, v in req.get("arrays", {}).items()}
                workloads[req["id"]] = FACTORIES[req["workload"]](req.get("params", {}), arrays)
                reply = {}
            elif op == "run":
                w = workloads[req["id"]]
                n = int(req["iterations"])
                value = None
                t0 = time.perf_counter_ns()
                for _ in range(n):
                    value = w.iteration()
                ns = time.perf_counter_ns() - t0
                reply = {"ns": ns, "value": scalar(value)}
            elif op == "call":
                arrays = {k: decode(v) for k, v in req.get("arrays", {}).items()}
                reply = workloads[req["id"]].call(req["method"], req.get("args", {}), arrays)
            elif op == "dispose":
                workloads.pop(req["id"], None)
                reply = {}
            elif op == "exit":
                out.write(json.dumps({"ok": True}) + "\n")
                out.flush()
                return
            else:
                raise ValueError(f"unknown op {op}")
            reply["ok"] = True
        except Exception as e:  # noqa: BLE001 (every failure goes back to Node as a reply)
            reply = {"ok": False, "error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()}
        out.write(json.dumps(reply, allow_nan=False) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
