// The kl benchmark suite: klcore (SIMD, scalar, SIMD with zero-copy inputs) against an idiomatic
// JavaScript loop, float32 and float64, n = 1e3, 1e5, 1e6, validated and not. Prints a markdown
// report and, on full runs, writes bench/results/latest.md and latest.json.
// Usage: npm run bench  (BENCH_QUICK=1 or --quick for a smoke run that writes nothing)

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import os from "node:os";
import { createInstanceSync } from "../dist/index.js";
import { machine, mulberry32, optionsFromEnv, pairedRatio, runWorkload, sink } from "./harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const opts = optionsFromEnv();

// Targets from the spec.
const TARGET_F32 = 9;
const TARGET_F64 = 2.5;
const TARGET_OVERHEAD = 1.1;

const SIZES = [1e3, 1e5, 1e6];
const DTYPES = ["float32", "float64"];
const SEED = 0x5eed1234;
const ZERO_FRACTION = 0.1;

// ---- inputs ----------------------------------------------------------------------------------

/** A Dirichlet-like distribution: uniform randoms, a fraction of them zero, normalised to sum 1. */
function distribution(rand, n, zeroFraction) {
  const x = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    // 1 - rand() is in (0, 1]: no accidental zeros beyond the chosen ones.
    x[i] = rand() < zeroFraction ? 0 : 1 - rand();
    sum += x[i];
  }
  for (let i = 0; i < n; i++) x[i] /= sum;
  return x;
}

// ---- the baseline ----------------------------------------------------------------------------

// The idiomatic loop, without validation. One copy per element type, as a caller would have it:
// a single function fed both array types would be polymorphic and slower than either copy.
function jsKlF32(p, q) {
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] > 0) s += p[i] * Math.log(p[i] / q[i]);
  }
  return s;
}

function jsKlF64(p, q) {
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] > 0) s += p[i] * Math.log(p[i] / q[i]);
  }
  return s;
}

// ---- the runs --------------------------------------------------------------------------------

const simd = createInstanceSync({ simd: true });
const scalar = createInstanceSync({ simd: false });
if (!simd.backend().simd || scalar.backend().simd)
  throw new Error("expected one SIMD and one scalar instance");

const NO_VALIDATE = { validate: false };
const CONTENDERS = [
  { key: "simd", label: "klcore SIMD" },
  { key: "scalar", label: "klcore scalar" },
  { key: "zerocopy", label: "klcore SIMD, zero-copy" },
];
const BASELINE = "JS loop";
const id = (key, validate) => `${key}${validate ? "" : ":novalidate"}`;

const info = machine();
const rand = mulberry32(SEED);
const groups = [];
const started = performance.now();

for (const dtype of DTYPES) {
  for (const n of SIZES) {
    const t0 = performance.now();
    const Arr = dtype === "float32" ? Float32Array : Float64Array;
    const p = Arr.from(distribution(rand, n, ZERO_FRACTION));
    const q = Arr.from(distribution(rand, n, 0));
    // Zero-copy inputs: allocated and filled once; `.array` re-read after every allocation.
    const wp = simd.alloc(dtype, n);
    const wq = simd.alloc(dtype, n);
    wp.array.set(p);
    wq.array.set(q);
    const js = dtype === "float32" ? jsKlF32 : jsKlF64;

    // Validated and unvalidated variants run in the same rounds, so the validation overhead is a
    // same-round ratio too; the JS loop (never validated) is the baseline of both.
    const contenders = [{ name: BASELINE, fn: () => js(p, q) }];
    for (const validate of [true, false]) {
      const o = validate ? undefined : NO_VALIDATE;
      contenders.push(
        { name: id("simd", validate), fn: () => simd.kl(p, q, o) },
        { name: id("scalar", validate), fn: () => scalar.kl(p, q, o) },
        { name: id("zerocopy", validate), fn: () => simd.kl(wp, wq, o) },
      );
    }

    // Every contender must compute the same value before its speed means anything.
    const reference = js(p, q);
    const tolerance = dtype === "float32" ? 1e-4 : 1e-8;
    const check = {};
    for (const c of contenders) {
      const v = c.fn();
      const rel = Math.abs(v - reference) / Math.abs(reference);
      check[c.name] = { value: v, relativeDifference: rel };
      if (!(rel <= tolerance)) {
        throw new Error(
          `${dtype} n=${n}: ${c.name} gave ${v}, the JS loop ${reference} (tolerance ${tolerance})`,
        );
      }
    }

    const result = runWorkload({
      name: `kl ${dtype} n=${n}`,
      contenders,
      baseline: BASELINE,
      elements: n,
      ...opts,
    });
    groups.push({ dtype, n, reference, check, result });
    wp.free();
    wq.free();
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    console.error(`  kl ${dtype} n=${n}: ${secs} s`);
  }
}

const total = sink();
if (!Number.isFinite(total)) throw new Error(`the result sink is not finite: ${total}`);
info.loadAverageAtEnd = os.loadavg();
info.durationSeconds = (performance.now() - started) / 1000;

// ---- the figures -----------------------------------------------------------------------------

const byName = (g, name) => g.result.contenders.find((c) => c.name === name);

const workloads = [];
for (const g of groups) {
  for (const validate of [true, false]) {
    const rows = [
      ...CONTENDERS.map((c) => ({ ...c, name: id(c.key, validate) })),
      { key: "js", label: BASELINE, name: BASELINE },
    ];
    workloads.push({
      dtype: g.dtype,
      n: g.n,
      validate,
      contenders: rows.map((r) => {
        const c = byName(g, r.name);
        return {
          contender: r.label,
          key: r.key,
          validated: r.key === "js" ? false : validate,
          repsPerSample: c.reps,
          nsPerElement: c.nsPerElement,
          nsPerCall: c.nsPerCall,
          speedupVsJs: c.speedup,
          speedupVsJsOfMinimums: c.speedupOfMinimums,
          resultValue: g.check[r.name].value,
          relativeDifferenceVsJs: g.check[r.name].relativeDifference,
        };
      }),
    });
  }
}

const overhead = groups.map((g) => ({
  dtype: g.dtype,
  n: g.n,
  simd: pairedRatio(g.result, id("simd", true), id("simd", false)),
  zerocopy: pairedRatio(g.result, id("zerocopy", true), id("zerocopy", false)),
  scalar: pairedRatio(g.result, id("scalar", true), id("scalar", false)),
}));

const zeroCopy = groups.map((g) => ({
  dtype: g.dtype,
  n: g.n,
  validated: pairedRatio(g.result, id("simd", true), id("zerocopy", true)),
  unvalidated: pairedRatio(g.result, id("simd", false), id("zerocopy", false)),
}));

const speedupAt = (dtype, n, key, validate) =>
  workloads
    .find((w) => w.dtype === dtype && w.n === n && w.validate === validate)
    .contenders.find((c) => c.key === key).speedupVsJs.median;

const worstOverhead = overhead.reduce((a, b) => (b.simd.median > a.simd.median ? b : a));
const speedupTarget = (dtype, target) => {
  const value = speedupAt(dtype, 1e6, "simd", true);
  const zeroCopyValue = speedupAt(dtype, 1e6, "zerocopy", true);
  return {
    target: `${dtype} n=1e6: klcore SIMD (validated, copying inputs) at least ${target}x the JS loop`,
    value,
    met: value >= target,
    // For reference: the same call on zero-copy inputs.
    zeroCopyValue,
    zeroCopyMet: zeroCopyValue >= target,
  };
};
const targets = [
  speedupTarget("float32", TARGET_F32),
  speedupTarget("float64", TARGET_F64),
  {
    target: `validation overhead of klcore SIMD at most ${Math.round((TARGET_OVERHEAD - 1) * 100)}% at every size`,
    value: worstOverhead.simd.median,
    worst: `${worstOverhead.dtype} n=${worstOverhead.n}`,
    failing: overhead.filter((o) => !(o.simd.median <= TARGET_OVERHEAD)).map((o) => `${o.dtype} n=${o.n}`),
    met: overhead.every((o) => o.simd.median <= TARGET_OVERHEAD),
  },
];

// ---- the report ------------------------------------------------------------------------------

const sig = (x) =>
  x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toPrecision(3);
const times = (x) => `${x.toFixed(2)}x`;
const pct = (r) => `${r >= 1 ? "+" : ""}${((r - 1) * 100).toFixed(1)}%`;
const exp10 = (n) => `1e${Math.round(Math.log10(n))}`;
const short = (dtype) => (dtype === "float32" ? "f32" : "f64");
const perCall = (ns) =>
  ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : `${(ns / 1e3).toFixed(ns >= 1e4 ? 0 : 1)} µs`;
const gib = (b) => `${(b / 2 ** 30).toFixed(1)} GiB`;

const lines = [];
lines.push("# klcore benchmark: kl");
lines.push("");
lines.push(
  `${info.cpu}, ${info.cores} cores, ${gib(info.totalMemoryBytes)}; Node ${info.node} (V8 ${info.v8}); ` +
    `${info.date}; commit ${info.commit ? info.commit.slice(0, 12) : "unknown"}` +
    `${info.dirty ? " (with uncommitted changes)" : ""}.`,
);
lines.push(
  `${opts.samples} samples per contender, round-robin, each >= ${opts.targetMs} ms; ` +
    `load average ${info.loadAverageAtStart.map((x) => x.toFixed(2)).join(" ")} at start, ` +
    `${info.loadAverageAtEnd.map((x) => x.toFixed(2)).join(" ")} at end` +
    `${opts.quick ? "; QUICK smoke run, not for comparison" : ""}.`,
);
lines.push("");
lines.push("## Time per element, and speed-up over the JS loop (>1 = faster)");
lines.push("");
lines.push("| workload | contender | median ns/elem | min | max | per call | vs JS loop |");
lines.push("|---|---|--:|--:|--:|--:|--:|");
for (const w of workloads) {
  const name = `${short(w.dtype)} n=${exp10(w.n)}, ${w.validate ? "validated" : "validate: false"}`;
  for (const c of w.contenders) {
    const e = c.nsPerElement;
    const ratio = c.key === "js" ? "1 (baseline)" : times(c.speedupVsJs.median);
    lines.push(
      `| ${name} | ${c.contender} | ${sig(e.median)} | ${sig(e.min)} | ${sig(e.max)} | ${perCall(c.nsPerCall.median)} | ${ratio} |`,
    );
  }
}
lines.push("");
lines.push(
  "The JS loop never validates: its row is the same measurement in the validated and the unvalidated " +
    "workload of a size.",
);
lines.push("");
lines.push("## Validation overhead: validated / unvalidated time, same rounds (median)");
lines.push("");
lines.push("| workload | klcore SIMD | SIMD, zero-copy | scalar |");
lines.push("|---|--:|--:|--:|");
for (const o of overhead) {
  lines.push(
    `| ${short(o.dtype)} n=${exp10(o.n)} | ${pct(o.simd.median)} | ${pct(o.zerocopy.median)} | ${pct(o.scalar.median)} |`,
  );
}
lines.push("");
lines.push("## Zero-copy inputs: time copying / time zero-copy, klcore SIMD, same rounds (median)");
lines.push("");
lines.push("| workload | validated | validate: false |");
lines.push("|---|--:|--:|");
for (const z of zeroCopy) {
  lines.push(
    `| ${short(z.dtype)} n=${exp10(z.n)} | ${times(z.validated.median)} | ${times(z.unvalidated.median)} |`,
  );
}
lines.push("");
const [t32, t64, tov] = targets;
const verdict = (t) => (t.met ? "**met**" : "**not met**");
lines.push(
  `Targets (spec): float32 n=1e6 at least ${TARGET_F32}x the JS loop: ${verdict(t32)} (${times(t32.value)}; ` +
    `zero-copy ${times(t32.zeroCopyValue)}); ` +
    `float64 n=1e6 at least ${TARGET_F64}x: ${verdict(t64)} (${times(t64.value)}; zero-copy ${times(t64.zeroCopyValue)}); ` +
    `validation overhead at most ${Math.round((TARGET_OVERHEAD - 1) * 100)}%: ${verdict(tov)} ` +
    `(worst ${pct(tov.value)} at ${tov.worst}${tov.met ? "" : `; over at ${tov.failing.join(", ")}`}). ` +
    "The verdicts on speed-up are for the default call (validated, inputs copied in); the overhead is " +
    "klcore SIMD's.",
);
lines.push("");
lines.push(
  `Timings come from a shared machine (${info.cores} cores, other processes may run): ` +
    "compare ratios rather than absolute times, and runs with each other only loosely.",
);
const markdown = lines.join("\n") + "\n";

process.stdout.write(markdown);
console.log(`\n(sink ${total.toPrecision(6)}, ${info.durationSeconds.toFixed(1)} s)`);

if (opts.quick) {
  console.log("Quick run: bench/results/ left unchanged.");
} else {
  const json = {
    suite: "kl",
    machine: info,
    settings: { ...opts, seed: SEED, zeroFraction: ZERO_FRACTION, sizes: SIZES, dtypes: DTYPES },
    inputs:
      "p: uniform randoms with ~10% zeros, normalised; q: uniform randoms in (0, 1], normalised; " +
      "generated in float64 with mulberry32, then converted to the workload's precision",
    targets,
    workloads,
    validationOverhead: overhead,
    zeroCopyGain: zeroCopy,
    raw: groups.map((g) => ({
      dtype: g.dtype,
      n: g.n,
      contenders: g.result.contenders.map((c) => ({ name: c.name, reps: c.reps, samplesNs: c.samplesNs })),
      rounds: g.result.rounds,
    })),
    sink: total,
  };
  const out = join(here, "results");
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "latest.md"), markdown);
  writeFileSync(join(out, "latest.json"), JSON.stringify(json, null, 2) + "\n");
  console.log("Wrote bench/results/latest.md and bench/results/latest.json.");
}
