// PyTorch contenders from Node: a child process (/usr/bin/python3 bench/contenders/torch_child.py)
// that keeps its workloads' tensors between requests and times its own loops, so that its samples
// can be taken in the same round-robin as klcore's without the pipe in the figure. One request,
// one JSON line each way (the protocol is described in torch_child.py).
//
// PyTorch is optional: torchAvailable() says whether `python3 -c "import torch"` works, and why
// not; every caller skips the PyTorch contenders with that reason when it does not.
//
// Threads: the child sets torch.set_num_threads(threads) before any work (default 1: klcore's
// wasm runs on one thread, so one thread compares like with like; pass 2 for PyTorch on every
// core of a 2-core machine) and reports what PyTorch then says in info().

import { spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const PYTHON = process.env.KLCORE_TORCH_PYTHON ?? "/usr/bin/python3";
const CHILD = fileURLToPath(new URL("./torch_child.py", import.meta.url));

/** { ok: true, version } when PyTorch imports, else { ok: false, reason }. */
export function torchAvailable(python = PYTHON) {
  const r = spawnSync(python, ["-c", "import torch; print(torch.__version__)"], {
    encoding: "utf8",
    timeout: 120_000,
  });
  if (r.error) return { ok: false, reason: `${python} did not start: ${r.error.message}` };
  if (r.status !== 0) {
    const last = (r.stderr || "").trim().split("\n").at(-1) ?? "";
    return { ok: false, reason: `${python} -c "import torch" failed: ${last}` };
  }
  return { ok: true, version: r.stdout.trim() };
}

const DTYPE_OF = new Map([
  [Float32Array, "float32"],
  [Float64Array, "float64"],
  [Int32Array, "int32"],
]);
const ARRAY_OF = { float32: Float32Array, float64: Float64Array, int32: Int32Array };

/** A typed array as the child reads it; shape defaults to one dimension. */
export function encodeArray(array, shape = [array.length]) {
  const dtype = DTYPE_OF.get(array.constructor);
  if (!dtype) throw new TypeError(`encodeArray: ${array.constructor.name} is not supported`);
  const bytes = Buffer.from(array.buffer, array.byteOffset, array.byteLength);
  return { dtype, shape, data: bytes.toString("base64") };
}

/** An array from the child: a fresh typed array (little-endian, as every engine here is). */
export function decodeArray({ dtype, data }) {
  const bytes = Buffer.from(data, "base64");
  const Arr = ARRAY_OF[dtype];
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new Arr(copy.buffer);
}

function decodeScalar(v) {
  if (v === "NaN") return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  return v;
}

/**
 * Starts the child. Returns { info, setup, run, call, dispose, close }:
 *   info: versions and PyTorch's thread counts, as the child reports them;
 *   setup(workload, params, arrays) -> id: arrays is { name: typed array or [typed array, shape] };
 *   run(id, iterations) -> { ns, value }: ns is the child's own time for the iterations;
 *   call(id, method, args?, arrays?) -> the reply, its arrays decoded;
 *   dispose(id); close().
 */
export async function startTorch({ threads = 1, python = PYTHON } = {}) {
  const child = spawn(python, [CHILD, "--threads", String(threads)], {
    cwd: fileURLToPath(new URL(".", import.meta.url)),
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (s) => {
    stderr = (stderr + s).slice(-4000);
  });
  const lines = createInterface({ input: child.stdout });
  const waiting = [];
  let exited = null;
  lines.on("line", (line) => {
    const next = waiting.shift();
    if (next) next.resolve(line);
  });
  child.on("exit", (code, signal) => {
    exited = `the PyTorch child exited (code ${code}, signal ${signal}): ${stderr.trim()}`;
    for (const w of waiting.splice(0)) w.reject(new Error(exited));
  });
  child.on("error", (e) => {
    exited = `the PyTorch child failed: ${e.message}`;
    for (const w of waiting.splice(0)) w.reject(new Error(exited));
  });

  // Requests are answered in order, one line each: a queue of resolvers is all the matching needed.
  function request(message) {
    if (exited) return Promise.reject(new Error(exited));
    return new Promise((resolve, reject) => {
      waiting.push({
        resolve: (line) => {
          const reply = JSON.parse(line);
          if (!reply.ok)
            reject(new Error(`PyTorch child, ${message.op}: ${reply.error}\n${reply.trace ?? ""}`));
          else resolve(reply);
        },
        reject,
      });
      child.stdin.write(`${JSON.stringify(message)}\n`);
    });
  }

  const encodeAll = (arrays = {}) =>
    Object.fromEntries(
      Object.entries(arrays).map(([k, v]) => [
        k,
        Array.isArray(v) ? encodeArray(v[0], v[1]) : encodeArray(v),
      ]),
    );
  const decodeAll = (arrays = {}) =>
    Object.fromEntries(Object.entries(arrays).map(([k, v]) => [k, decodeArray(v)]));

  const info = await request({ op: "info" });
  delete info.ok;
  let next = 0;
  return {
    info,
    async setup(workload, params = {}, arrays = {}) {
      const id = `${workload}-${next++}`;
      await request({ op: "setup", id, workload, params, arrays: encodeAll(arrays) });
      return id;
    },
    async run(id, iterations = 1) {
      const { ns, value } = await request({ op: "run", id, iterations });
      return { ns, value: decodeScalar(value) };
    },
    async call(id, method, args = {}, arrays = {}) {
      const reply = await request({ op: "call", id, method, args, arrays: encodeAll(arrays) });
      const out = { ...reply, arrays: decodeAll(reply.arrays) };
      for (const [k, v] of Object.entries(out)) if (k !== "arrays") out[k] = decodeScalar(v);
      return out;
    },
    async dispose(id) {
      await request({ op: "dispose", id });
    },
    async close() {
      if (exited) return;
      const done = new Promise((resolve) => child.once("exit", resolve));
      await request({ op: "exit" }).catch(() => {});
      child.stdin.end();
      await done;
    },
  };
}

/** A PyTorch contender's name: the thread count it runs with is part of it. */
export const torchLabel = (threads, prefix = "PyTorch CPU") =>
  `${prefix}, ${threads} thread${threads === 1 ? "" : "s"}`;

/**
 * The suites' PyTorch contenders on a started child, as bench/run.mjs passes them (options.torch):
 * the suites take PyTorch from here and import nothing of Node's, so that the page of
 * bench/browser/ bundles them as they are. child is the child itself (the VI suite sets its
 * workload up there).
 */
export function suiteContenders(torch) {
  const name = torchLabel(torch.info.threads);
  return {
    child: torch,
    info: torch.info,
    kl: (p, q) => torchKl(torch, p, q, name),
    xent: (z, y, rows, classes) => torchXent(torch, z, y, rows, classes, name),
    train: (spec) => torchTrain(torch, spec, name),
  };
}

/**
 * A harness contender for a workload already set up in the child: fn() runs one iteration through
 * the pipe (warm-up and the value check), timed(calls) runs `calls` there and resolves to the
 * child's own ns, which the harness uses for the samples (bench/harness.mjs).
 */
export function torchContender(torch, id, name, kind = "torch") {
  return {
    name,
    kind,
    id,
    fn: async () => (await torch.run(id, 1)).value,
    timed: async (calls) => (await torch.run(id, calls)).ns,
    dispose: () => torch.dispose(id),
  };
}

/** PyTorch's kl(p, q) contender (F.kl_div, sum): p, q Float32Array or Float64Array of one length. */
export async function torchKl(torch, p, q, name = "PyTorch CPU") {
  return torchContender(torch, await torch.setup("kl", {}, { p, q }), name);
}

/**
 * PyTorch's cross-entropy with its gradient (F.cross_entropy, mean, torch.autograd.grad): z rows x
 * classes logits, y Int32Array. gradient() resolves to the gradient of the last call.
 */
export async function torchXent(torch, z, y, rows, classes, name = "PyTorch CPU") {
  const id = await torch.setup("xent", {}, { z: [z, [rows, classes]], y });
  const c = torchContender(torch, id, name);
  c.gradient = async () => (await torch.call(id, "gradient")).arrays.gradient;
  return c;
}

/**
 * PyTorch's training epoch (float32, addmm layers in klcore's layout, ReLU, F.cross_entropy,
 * torch.optim.Adam): data { x, y } (samples x inputs), the batches' order (Int32Array), the
 * initial weights [W0, b0, W1, b1, ...] (W inputs x outputs), layer sizes [inputs, ...hidden,
 * classes]. fn() is one epoch and returns the sum of its batch losses; parameters() resolves to the
 * current weights in the same order.
 */
export async function torchTrain(
  torch,
  { x, y, order, weights, sizes, batchSize, learningRate },
  name = "PyTorch CPU",
) {
  const arrays = { x: [x, [y.length, sizes[0]]], y, order };
  for (let k = 0; k + 1 < sizes.length; k++) {
    arrays[`w${k}`] = [weights[2 * k], [sizes[k], sizes[k + 1]]];
    arrays[`b${k}`] = weights[2 * k + 1];
  }
  const id = await torch.setup("train", { batchSize, learningRate }, arrays);
  const c = torchContender(torch, id, name);
  c.parameters = async () => {
    const out = (await torch.call(id, "parameters")).arrays;
    return Array.from({ length: 2 * (sizes.length - 1) }, (_, i) => out[`${i % 2 ? "b" : "w"}${i >> 1}`]);
  };
  return c;
}
