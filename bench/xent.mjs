// The crossEntropyWithLogits benchmark: the fused softmax cross-entropy with its gradient (class
// indices), klcore SIMD (copying, and zero-copy), klcore scalar, and an idiomatic fused JavaScript
// implementation, float32 and float64, batches 256x10 and 64x1000. Writes bench/results/xent.md
// and xent.json on full runs. Usage: node bench/xent.mjs [--quick]

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import os from "node:os";
import { createInstanceSync } from "../dist/index.js";
import { machine, mulberry32, optionsFromEnv, runWorkload, sink } from "./harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const opts = optionsFromEnv();
const SHAPES = [
  [256, 10],
  [64, 1000],
];
const DTYPES = ["float32", "float64"];
const SEED = 0x0c0ffee;
// Targets from the spec: 64x1000 float32 at least 9x the JS loop, 256x10 at least 3.5x.
const TARGETS = { "float32 64x1000": 9, "float32 256x10": 3.5 };

// The idiomatic fused JavaScript: per row a max pass, an exp pass storing exponentials in the
// gradient buffer, then the scaled gradient; mean over rows. One copy per element type.
function jsXentF32(z, y, rows, c, grad) {
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * c;
    let m = -Infinity;
    for (let j = 0; j < c; j++) if (z[o + j] > m) m = z[o + j];
    let s = 0;
    for (let j = 0; j < c; j++) {
      const e = Math.exp(z[o + j] - m);
      grad[o + j] = e;
      s += e;
    }
    total += m + Math.log(s) - z[o + y[r]];
    const k = 1 / (s * rows);
    for (let j = 0; j < c; j++) grad[o + j] *= k;
    grad[o + y[r]] -= 1 / rows;
  }
  return total / rows;
}

function jsXentF64(z, y, rows, c, grad) {
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * c;
    let m = -Infinity;
    for (let j = 0; j < c; j++) if (z[o + j] > m) m = z[o + j];
    let s = 0;
    for (let j = 0; j < c; j++) {
      const e = Math.exp(z[o + j] - m);
      grad[o + j] = e;
      s += e;
    }
    total += m + Math.log(s) - z[o + y[r]];
    const k = 1 / (s * rows);
    for (let j = 0; j < c; j++) grad[o + j] *= k;
    grad[o + y[r]] -= 1 / rows;
  }
  return total / rows;
}

const simd = createInstanceSync({ simd: true });
const scalar = createInstanceSync({ simd: false });
const info = machine();
const rand = mulberry32(SEED);
const results = [];
const started = performance.now();

for (const dtype of DTYPES) {
  for (const [rows, c] of SHAPES) {
    const Arr = dtype === "float32" ? Float32Array : Float64Array;
    const n = rows * c;
    const z = Arr.from({ length: n }, () => (rand() - 0.5) * 8);
    const y = Int32Array.from({ length: rows }, () => Math.floor(rand() * c));
    const jsGrad = new Arr(n);
    const kGrad = new Arr(n);
    const sGrad = new Arr(n);
    // Zero-copy: logits and gradient both live in wasm memory.
    const wz = simd.alloc(dtype, n);
    wz.array.set(z);
    const wg = simd.alloc(dtype, n);
    const js = dtype === "float32" ? jsXentF32 : jsXentF64;
    // Options built once, as a training loop would: building them per call with a spread
    // ({ ...o, grad }) is measurable next to a small batch, and would be charged to klcore.
    const oSimd = { classes: c, grad: kGrad };
    const oScalar = { classes: c, grad: sGrad };
    // One copying call first: it grows the instance's scratch, which would detach a view taken before.
    simd.crossEntropyWithLogits(y, z, oSimd);
    const oZero = { classes: c, grad: wg.array };
    const contenders = [
      { name: "JS (fused loop)", fn: () => js(z, y, rows, c, jsGrad) },
      { name: "klcore SIMD", fn: () => simd.crossEntropyWithLogits(y, z, oSimd).loss },
      { name: "klcore scalar", fn: () => scalar.crossEntropyWithLogits(y, z, oScalar).loss },
      { name: "klcore SIMD, zero-copy", fn: () => simd.crossEntropyWithLogits(y, wz, oZero).loss },
    ];
    // Same loss and gradient before timing.
    const want = js(z, y, rows, c, jsGrad);
    const tol = dtype === "float32" ? 1e-4 : 1e-10;
    for (const k of contenders.slice(1)) {
      const got = k.fn();
      if (!(Math.abs(got - want) <= tol * Math.abs(want)))
        throw new Error(`${k.name}: loss ${got}, JS ${want}`);
    }
    for (const g of [kGrad, sGrad, wg.array]) {
      for (let i = 0; i < n; i++) {
        if (!(Math.abs(g[i] - jsGrad[i]) <= tol * 1e-1 + tol * Math.abs(jsGrad[i]))) {
          throw new Error(`${dtype} ${rows}x${c}: gradient [${i}] ${g[i]}, JS ${jsGrad[i]}`);
        }
      }
    }
    const result = runWorkload({
      name: `xent ${dtype} ${rows}x${c}`,
      contenders,
      baseline: "JS (fused loop)",
      elements: n,
      ...opts,
    });
    results.push({ dtype, rows, classes: c, result });
    wz.free();
    wg.free();
    console.error(`  crossEntropyWithLogits ${dtype} ${rows}x${c} done`);
  }
}
if (!Number.isFinite(sink())) throw new Error("the result sink is not finite");
info.loadAverageAtEnd = os.loadavg();

const us = (ns) => (ns / 1e3).toFixed(ns >= 1e5 ? 0 : 1);
const lines = [
  "# klcore benchmark: crossEntropyWithLogits with gradient",
  "",
  `${info.cpu}, ${info.cores} cores; Node ${info.node} (V8 ${info.v8}); ${info.date}; commit ` +
    `${info.commit ? info.commit.slice(0, 12) : "unknown"}${info.dirty ? " (with uncommitted changes)" : ""}.`,
  `${opts.samples} samples per contender, round-robin; class-index targets, reduction 'mean', gradient into a ` +
    "preallocated buffer; microseconds per batch (median, min, max) and speed-up over the JS loop.",
  "",
  "| batch | contender | median µs | min | max | vs JS |",
  "|---|---|--:|--:|--:|--:|",
];
const verdicts = [];
for (const r of results) {
  const label = `${r.dtype} ${r.rows}x${r.classes}`;
  for (const c of r.result.contenders) {
    const ratio = c.name.startsWith("JS") ? "1 (baseline)" : `${c.speedup.median.toFixed(2)}x`;
    lines.push(
      `| ${label} | ${c.name} | ${us(c.nsPerCall.median)} | ${us(c.nsPerCall.min)} | ${us(c.nsPerCall.max)} | ${ratio} |`,
    );
  }
  const target = TARGETS[label];
  if (target) {
    const get = (name) => r.result.contenders.find((c) => c.name === name).speedup.median;
    const value = get("klcore SIMD");
    verdicts.push({ label, target, value, zeroCopy: get("klcore SIMD, zero-copy"), met: value >= target });
  }
}
lines.push("");
lines.push(
  "Targets (spec): " +
    verdicts
      .map(
        (v) =>
          `${v.label} at least ${v.target}x: ${v.met ? "**met**" : "**not met**"} (${v.value.toFixed(2)}x; ` +
          `zero-copy ${v.zeroCopy.toFixed(2)}x)`,
      )
      .join("; ") +
    ". Timings come from a shared machine: compare ratios.",
);
const markdown = lines.join("\n") + "\n";
process.stdout.write(`\n${markdown}`);
console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
if (!opts.quick) {
  const out = join(here, "results");
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "xent.md"), markdown);
  const json = {
    suite: "crossEntropyWithLogits",
    machine: info,
    settings: { ...opts, seed: SEED, shapes: SHAPES, dtypes: DTYPES },
    targets: verdicts,
    workloads: results.map((r) => ({
      dtype: r.dtype,
      rows: r.rows,
      classes: r.classes,
      contenders: r.result.contenders.map((c) => ({
        name: c.name,
        nsPerCall: c.nsPerCall,
        speedupVsJs: c.speedup,
        samplesNs: c.samplesNs,
      })),
    })),
  };
  writeFileSync(join(out, "xent.json"), JSON.stringify(json, null, 2) + "\n");
  console.log("Wrote bench/results/xent.md and bench/results/xent.json.");
}
