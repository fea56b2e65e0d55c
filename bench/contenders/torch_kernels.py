"""PyTorch contenders for the other benchmark suites, served by bench/contenders/torch_child.py.

Each workload is written as a PyTorch user would, on CPU tensors made once at setup:

  kl     F.kl_div(log q, p, reduction="sum"), which is sum p (log p - log q) with 0 where p = 0
         (the divergences suite's kl); params {}; arrays p, q (float32 or float64).
  xent   F.cross_entropy of class indices, mean over the rows, and its gradient with respect to
         the logits by torch.autograd.grad (the cross-entropy suite); arrays z (rows x classes),
         y (int32 class indices).
  train  one epoch of bench/suites/train.mjs in float32: dense layers x W + b (W inputs x
         outputs, klcore's layout, so the initial weights are copied as they are), ReLU
         between, F.cross_entropy (mean over the batch), torch.optim.Adam (lr from params,
         PyTorch's defaults otherwise); the batches are the rows of `order` in turn. arrays x
         (samples x inputs), y (int32), order (int32), w0, b0, w1, b1, ...; params
         {batchSize, learningRate}. An iteration is one epoch and returns the sum of the batch
         losses, as the JavaScript loop does.

Every workload's iteration() returns a float; call(method) returns what the agreement checks
compare (the gradient, the parameters).
"""

import torch
import torch.nn.functional as F

from torch_wire import encode


class Kl:
    def __init__(self, params, arrays):
        self.p = arrays["p"]
        self.q = arrays["q"]

    def iteration(self):
        return F.kl_div(torch.log(self.q), self.p, reduction="sum").item()

    def call(self, method, args, arrays):
        raise ValueError(f"kl: unknown method {method}")


class Xent:
    def __init__(self, params, arrays):
        self.z = arrays["z"].clone().requires_grad_(True)
        self.y = arrays["y"].to(torch.int64)
        self.grad = None

    def iteration(self):
        loss = F.cross_entropy(self.z, self.y, reduction="mean")
        (self.grad,) = torch.autograd.grad(loss, self.z)
        return loss.item()

    def call(self, method, args, arrays):
        if method == "gradient":
            self.iteration()
            return {"arrays": {"gradient": encode(self.grad)}}
        raise ValueError(f"xent: unknown method {method}")


class Train:
    def __init__(self, params, arrays):
        self.x = arrays["x"].to(torch.float32)
        self.y = arrays["y"].to(torch.int64)
        self.order = arrays["order"].to(torch.int64)
        self.batch = int(params["batchSize"])
        self.weights = []
        k = 0
        while f"w{k}" in arrays:
            w = arrays[f"w{k}"].to(torch.float32).clone().requires_grad_(True)
            b = arrays[f"b{k}"].to(torch.float32).clone().requires_grad_(True)
            self.weights.append((w, b))
            k += 1
        flat = [t for pair in self.weights for t in pair]
        self.optimizer = torch.optim.Adam(flat, lr=float(params.get("learningRate", 1e-3)))

    def forward(self, xb):
        a = xb
        last = len(self.weights) - 1
        for k, (w, b) in enumerate(self.weights):
            a = torch.addmm(b, a, w)
            if k < last:
                a = torch.relu(a)
        return a

    def iteration(self):
        total = 0.0
        n = self.order.shape[0]
        for start in range(0, n, self.batch):
            idx = self.order[start : start + self.batch]
            xb = self.x.index_select(0, idx)
            yb = self.y.index_select(0, idx)
            self.optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(self.forward(xb), yb, reduction="mean")
            loss.backward()
            self.optimizer.step()
            total += loss.item()
        return total

    def call(self, method, args, arrays):
        if method == "parameters":
            out = {}
            for k, (w, b) in enumerate(self.weights):
                out[f"w{k}"] = encode(w)
                out[f"b{k}"] = encode(b)
            return {"arrays": out}
        raise ValueError(f"train: unknown method {method}")


FACTORIES = {"kl": Kl, "xent": Xent, "train": Train}
