"""How arrays and scalars travel between Node and bench/contenders/torch_child.py: an array is
{"dtype", "shape", "data": base64 of its little-endian bytes}; a non-finite scalar is the string
"NaN", "Infinity" or "-Infinity" (JSON has neither)."""

import base64
import math

import numpy as np
import torch

DTYPES = {"float32": np.float32, "float64": np.float64, "int32": np.int32}
NAMES = {np.dtype(v): k for k, v in DTYPES.items()}


def decode(a):
    raw = base64.b64decode(a["data"])
    values = np.frombuffer(raw, dtype=np.dtype(DTYPES[a["dtype"]]).newbyteorder("<")).copy()
    return torch.from_numpy(values.reshape(a["shape"]))


def encode(t):
    t = t.detach().contiguous()
    values = t.numpy()
    name = NAMES[values.dtype]
    data = values.astype(values.dtype.newbyteorder("<")).tobytes()
    return {"dtype": name, "shape": list(values.shape), "data": base64.b64encode(data).decode("ascii")}


def scalar(v):
    """JSON has no inf/NaN: those travel as the strings Node's side turns back into numbers."""
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    return v
