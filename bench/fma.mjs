// The opt-in FMA build against the SIMD build, side by side in one process, round robin: the
// workloads whose float32 arithmetic the FMA build changes (the dense layers' multiply-add and the
// float32 log and exp polynomials, assembly/math/madd.ts). Per workload: medians over alternating
// rounds, the speed-up (SIMD time / FMA time), and the accuracy of both against a float64 reference
// (divergences) or their difference (training). Prints a markdown table; --json FILE writes it too.
// Node 20 runs relaxed SIMD only behind --experimental-wasm-relaxed-simd: the script restarts itself
// with the flag when the engine cannot validate the FMA build. `npm run bench:browser` measures the
// dense layers in Chromium (bench/relaxed.mjs on the shipped builds).
// Usage: npm run build && node bench/fma.mjs [--rounds N] [--json FILE]
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { adam, createInstanceSync, fit, hasFma } from "../dist/index.js";
import { mulberry32 } from "./harness.mjs";
import { relativeError } from "./reference/kernels.mjs";
import { teacherData } from "./reference/train.mjs";

const FLAG = "--experimental-wasm-relaxed-simd";
if (!hasFma()) {
  if (process.execArgv.includes(FLAG))
    throw new Error("this engine cannot run relaxed SIMD, even with " + FLAG);
  const r = spawnSync(process.execPath, [FLAG, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: "inherit",
  });
  process.exit(r.status ?? 1);
}

const { values } = parseArgs({
  options: { rounds: { type: "string", default: "15" }, json: { type: "string" } },
});
const rounds = Number(values.rounds);
const builds = { simd: createInstanceSync(), fma: createInstanceSync({ fma: true }) };
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];

/** Alternating rounds of `calls` calls of each build's fn; medians in ms per call. */
async function timeBoth(fns, calls) {
  const t = { simd: [], fma: [] };
  for (const name of ["simd", "fma"]) for (let i = 0; i < 2; i++) await fns[name]();
  for (let round = 0; round < rounds; round++) {
    for (const name of round % 2 ? ["fma", "simd"] : ["simd", "fma"]) {
      const t0 = performance.now();
      for (let i = 0; i < calls; i++) await fns[name]();
      t[name].push((performance.now() - t0) / calls);
    }
  }
  return { simdMs: median(t.simd), fmaMs: median(t.fma), speedup: median(t.simd) / median(t.fma) };
}

const rows = [];
const random = mulberry32(7);

// kl and entropy, float32, n = 1e6: ln in the float32 log polynomial.
{
  const n = 1_000_000;
  const p = new Float32Array(n).map(() => (random() < 0.1 ? 0 : random()));
  const q = new Float32Array(n).map(() => random() + 1e-3);
  const ps = p.reduce((a, b) => a + b, 0);
  const qs = q.reduce((a, b) => a + b, 0);
  for (let i = 0; i < n; i++) {
    p[i] /= ps;
    q[i] /= qs;
  }
  // The float64 reference on the same float32 values, with compensated summation.
  let s = 0;
  let c = 0;
  for (let i = 0; i < n; i++) {
    if (p[i] === 0) continue;
    const v = p[i] * Math.log(p[i] / q[i]);
    const t = s + v;
    c += Math.abs(s) >= Math.abs(v) ? s - t + v : v - t + s;
    s = t;
  }
  const ref = s + c;
  const fns = { simd: () => builds.simd.kl(p, q), fma: () => builds.fma.kl(p, q) };
  const time = await timeBoth(fns, 10);
  rows.push({
    workload: "kl f32 n=1e6",
    ...time,
    simdError: relativeError(fns.simd(), ref),
    fmaError: relativeError(fns.fma(), ref),
    what: "relative error against float64",
  });
}

// crossEntropyWithLogits with its gradient, 64 x 1000 float32: exp and log polynomials.
{
  const r = 64;
  const classes = 1000;
  const logits = new Float32Array(r * classes).map(() => 8 * random() - 4);
  const y = Int32Array.from({ length: r }, () => Math.floor(random() * classes));
  let ref = 0;
  for (let i = 0; i < r; i++) {
    let m = -Infinity;
    for (let j = 0; j < classes; j++) m = Math.max(m, logits[i * classes + j]);
    let z = 0;
    for (let j = 0; j < classes; j++) z += Math.exp(logits[i * classes + j] - m);
    ref += m + Math.log(z) - logits[i * classes + y[i]];
  }
  ref /= r;
  const call = (k) => () => k.crossEntropyWithLogits(y, logits, { classes, grad: true }).loss;
  const fns = { simd: call(builds.simd), fma: call(builds.fma) };
  const time = await timeBoth(fns, 50);
  rows.push({
    workload: "crossEntropyWithLogits + gradient f32, 64x1000",
    ...time,
    simdError: relativeError(fns.simd(), ref),
    fmaError: relativeError(fns.fma(), ref),
    what: "relative error against float64",
  });
}

// One epoch of training (10,000 samples x 784, batches of 128, Adam 1e-3): the dense layers.
{
  const data = teacherData({ samples: 10_000, inputs: 784, classes: 10, seed: 3 });
  for (const [name, hidden] of [
    ["softmax regression 784-10", []],
    ["MLP 784-128-10", [128]],
  ]) {
    const make = (k) =>
      hidden.length
        ? k.mlp({ inputs: 784, hidden, classes: 10, seed: 1 })
        : k.softmaxRegression({ inputs: 784, classes: 10, seed: 1 });
    const models = { simd: make(builds.simd), fma: make(builds.fma) };
    const opts = () => ({ epochs: 1, batchSize: 128, optimizer: adam({ learningRate: 1e-3 }), seed: 2 });
    const last = {};
    const fns = {};
    for (const b of ["simd", "fma"])
      fns[b] = async () => (last[b] = (await fit(models[b], data, opts())).history[0].loss);
    const time = await timeBoth(fns, 1);
    // Fresh models, one epoch each: how far the FMA build's loss is from the SIMD build's.
    const fresh = { simd: make(builds.simd), fma: make(builds.fma) };
    const a = (await fit(fresh.simd, data, opts())).history[0].loss;
    const f = (await fit(fresh.fma, data, opts())).history[0].loss;
    rows.push({
      workload: `one epoch, ${name}`,
      ...time,
      simdError: 0,
      fmaError: relativeError(f, a),
      what: "relative difference of the epoch's loss from the SIMD build's",
    });
  }
}

const lines = [
  `FMA build against SIMD build, Node ${process.version}${process.execArgv.includes(FLAG) ? ` (${FLAG})` : ""}, medians of ${rounds} alternating rounds`,
  "",
  "| workload | SIMD ms | FMA ms | speed-up | SIMD error | FMA error | error is |",
  "|---|--:|--:|--:|--:|--:|---|",
  ...rows.map(
    (r) =>
      `| ${r.workload} | ${r.simdMs.toFixed(3)} | ${r.fmaMs.toFixed(3)} | ${r.speedup.toFixed(2)}x | ${r.simdError.toExponential(1)} | ${r.fmaError.toExponential(1)} | ${r.what} |`,
  ),
];
console.log(lines.join("\n"));
if (values.json)
  writeFileSync(values.json, JSON.stringify({ node: process.version, rounds, rows }, null, 2) + "\n");
