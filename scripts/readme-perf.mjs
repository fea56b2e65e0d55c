// Regenerates the benchmark figures from bench/results/latest.json: the full tables of
// docs/performance.md (everything between <!-- perf:start --> and <!-- perf:end -->) and the short
// headline of README.md (between <!-- perf-headline:start --> and <!-- perf-headline:end -->); the
// prose around both is kept. When bench/results/browser.json exists (npm run bench:browser), a short
// summary of the run in Chromium follows the tables: the target workloads' ratios, the verdicts and
// the relaxed-SIMD figure. The PyTorch table (klcore against PyTorch CPU, with both thread counts)
// and the VI figures come from latest.json too; a run without PyTorch says so instead of the table.
// Usage: npm run bench:readme   (after npm run bench)
//        node scripts/readme-perf.mjs --check   (exit 1 if either file is not what latest.json gives)

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as prettier from "prettier";
import { median } from "../bench/harness.mjs";
import {
  error,
  exp10,
  machineLine,
  perCall,
  short,
  thresholdText,
  times,
  torchText,
} from "../bench/report.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const START = "<!-- perf:start -->";
const END = "<!-- perf:end -->";
const HEADLINE_START = "<!-- perf-headline:start -->";
const HEADLINE_END = "<!-- perf-headline:end -->";
const SIMD = "klcore SIMD";
const ZERO_COPY = "klcore SIMD, zero-copy";
const FIT = "klcore SIMD fit()";
const FIT_VI = "klcore fitVI";

const run = JSON.parse(readFileSync(join(root, "bench/results/latest.json"), "utf8"));

/** The median over rounds of time(a) / time(b) in one workload: b's speed-up over a. */
function sameRound(w, a, b) {
  const ia = w.contenders.findIndex((c) => c.contender === a);
  const ib = w.contenders.findIndex((c) => c.contender === b);
  if (ia < 0 || ib < 0) return null;
  return median(w.rounds.map((row) => row[ia] / row[ib]));
}

const cell = (x) => (x === null || x === undefined ? "" : times(x));
const row = (cells) => `| ${cells.join(" | ")} |`;

const speed = [
  row([
    "workload",
    "klcore SIMD per call",
    "vs JS loop",
    "vs TF.js wasm",
    "vs TF.js cpu",
    "`WasmArray` inputs vs JS",
  ]),
  "| --- | --: | --: | --: | --: | --: |",
];
const accuracy = [
  row([
    "workload",
    "klcore SIMD",
    "klcore scalar",
    "JS loop",
    "TF.js cpu",
    "TF.js wasm",
    "TF.js built-in KL",
    "ml-distance",
  ]),
  "| --- | --: | --: | --: | --: | --: | --: | --: |",
];
const get = (w, name) => w.contenders.find((c) => c.contender === name);
const errorOf = (w, name, field = "relativeError") => {
  const c = get(w, name);
  return c ? error(c[field], c.known) : "";
};

const { divergences, xent, train, vi } = run.suites;

// klcore against PyTorch CPU: time(PyTorch) / time(klcore), same rounds (> 1 = klcore ahead).
const torchRows = [];
function torchRow(label, w, klcore, perStep = 1) {
  const t = w.contenders.find((c) => c.kind === "torch");
  const k = get(w, klcore);
  if (!t || !k) return;
  torchRows.push(
    row([
      label,
      perCall(k.nsPerCall.median / perStep),
      perCall(t.nsPerCall.median / perStep),
      cell(k.speedupVsTorch?.median),
    ]),
  );
}
for (const w of divergences?.workloads ?? []) {
  if (w.kernel === "kl" && w.n === Math.max(...divergences.settings.sizes))
    torchRow(`\`kl\` ${short(w.dtype)}, n = ${exp10(w.n)}`, w, SIMD);
}
for (const w of xent?.workloads ?? [])
  torchRow(`\`crossEntropyWithLogits\` + gradient ${short(w.dtype)}, ${w.rows}x${w.classes}`, w, SIMD);
for (const w of train?.workloads ?? []) torchRow(`one epoch, ${w.model} (\`fit()\`)`, w, FIT);
for (const w of vi?.workloads ?? [])
  torchRow(`one VI step, logistic regression, ${w.family} (\`fitVI\`, float64)`, w, FIT_VI, w.stepsPerCall);
for (const w of divergences?.workloads ?? []) {
  const label = `\`${w.kernel}\` ${short(w.dtype)}, n = ${exp10(w.n)}`;
  const k = get(w, SIMD);
  speed.push(
    row([
      label,
      perCall(k.nsPerCall.median),
      cell(k.speedupVsJs.median),
      cell(k.speedupVsTfWasm?.median),
      cell(sameRound(w, "TF.js cpu", SIMD)),
      cell(get(w, ZERO_COPY).speedupVsJs.median),
    ]),
  );
  if (w.n === Math.max(...divergences.settings.sizes)) {
    accuracy.push(
      row([
        label,
        errorOf(w, SIMD),
        errorOf(w, "klcore scalar"),
        errorOf(w, "JS loop"),
        errorOf(w, "TF.js cpu"),
        errorOf(w, "TF.js wasm"),
        errorOf(w, "TF.js wasm, built-in KL"),
        errorOf(w, "ml-distance"),
      ]),
    );
  }
}
for (const w of xent?.workloads ?? []) {
  const label = `\`crossEntropyWithLogits\` + gradient ${short(w.dtype)}, ${w.rows}x${w.classes}`;
  const k = get(w, SIMD);
  speed.push(
    row([
      label,
      perCall(k.nsPerCall.median),
      cell(k.speedupVsJs.median),
      cell(k.speedupVsTfWasm?.median),
      cell(sameRound(w, "TF.js cpu", SIMD)),
      cell(get(w, ZERO_COPY).speedupVsJs.median),
    ]),
  );
  accuracy.push(
    row([
      `${label} (loss)`,
      errorOf(w, SIMD),
      errorOf(w, "klcore scalar"),
      errorOf(w, "JS loop"),
      errorOf(w, "TF.js cpu"),
      errorOf(w, "TF.js wasm"),
      "",
      "",
    ]),
  );
}
const trainRows = [];
for (const w of train?.workloads ?? []) {
  const k = get(w, FIT);
  const hand = get(w, "klcore SIMD, loop by hand");
  speed.push(
    row([
      `one epoch, ${w.model} (\`fit()\`)`,
      perCall(k.nsPerCall.median),
      cell(k.speedupVsJs.median),
      cell(k.speedupVsTfWasm?.median),
      cell(sameRound(w, "TF.js cpu", FIT)),
      "",
    ]),
  );
  trainRows.push(
    row([
      w.model,
      Math.round(k.samplesPerSecond).toLocaleString("en-US"),
      cell(hand.speedupVsJs.median),
      error(k.parameterDifference),
      error(get(w, "TF.js cpu").parameterDifference),
      error(get(w, "TF.js wasm").parameterDifference),
    ]),
  );
}

const m = run.machine;
const out = [
  START,
  "",
  `<!-- Generated by scripts/readme-perf.mjs from bench/results/latest.json: edit those, not this. -->`,
  "",
];
out.push(
  `Measured on ${machineLine(m)}; ${run.settings.samples} samples per contender (training: ` +
    `${run.settings.trainSamples} epochs), TF.js ${run.peers.tfjs} (${run.peers.tfjsWasmBinary}), ml-distance ` +
    `${run.peers.mlDistance}; the whole run took ${(run.durationSeconds / 60).toFixed(1)} minutes.`,
);
out.push("");
out.push(
  "Speed-up of klcore SIMD on the default call (validated, inputs copied into wasm memory), > 1 = faster:",
);
out.push("");
out.push(...speed);
out.push("");
out.push(
  "Accuracy: relative error against a float64 reference with compensated summation on the same inputs " +
    "(training: the largest parameter difference after one epoch against the JavaScript float32 loop, below):",
);
out.push("");
out.push(...accuracy);
if (trainRows.length > 0) {
  out.push("");
  out.push(
    row([
      "one epoch",
      "klcore `fit()` samples/s",
      "loop by hand vs JS",
      "`fit()` parameters vs JS",
      "TF.js cpu",
      "TF.js wasm",
    ]),
  );
  out.push("| --- | --: | --: | --: | --: | --: |");
  out.push(...trainRows);
}
const torchLine = torchText(run.peers);
if (torchLine) {
  out.push("");
  if (torchRows.length > 0) {
    out.push(
      `klcore against PyTorch CPU in the same run (${torchLine}; PyTorch in a child process timing its own calls, ` +
        "its samples in the same round-robin), per call, and time(PyTorch) / time(klcore), > 1 = klcore ahead:",
    );
    out.push("");
    out.push(row(["workload", "klcore", "PyTorch", "klcore vs PyTorch"]));
    out.push("| --- | --: | --: | --: |");
    out.push(...torchRows);
  } else {
    out.push(`${torchLine}.`);
  }
}
if (vi) {
  const s = vi.settings;
  out.push("");
  out.push(
    `Variational inference, Bayesian logistic regression ${s.rows.toLocaleString("en-US")} x ${s.features}, ` +
      `${s.draws} draws per step, Adam (\`fitVI\` on \`targets.logisticRegression\`, ${s.stepsPerCall} steps per call, ` +
      "the call's fixed cost included):",
  );
  out.push("");
  out.push(
    row([
      "family",
      "klcore `fitVI` µs per step",
      "steps/s",
      "vs JS loop",
      "vs PyTorch",
      "scalar build vs JS",
    ]),
  );
  out.push("| --- | --: | --: | --: | --: | --: |");
  for (const w of vi.workloads) {
    const k = get(w, FIT_VI);
    out.push(
      row([
        w.family,
        (k.nsPerElement.median / 1e3).toFixed(1),
        Math.round(k.stepsPerSecond).toLocaleString("en-US"),
        cell(k.speedupVsJs.median),
        cell(k.speedupVsTorch?.median),
        cell(get(w, "klcore fitVI, scalar build")?.speedupVsJs.median),
      ]),
    );
  }
  const e = vi.eightSchools;
  if (e) {
    const user = get({ contenders: e.contenders }, "the logDensity alone");
    out.push("");
    out.push(
      `Eight schools with a JavaScript \`logDensity\` (${e.dim} parameters, ${e.draws} draws per step, ` +
        `${e.stepsPerCall} steps per call): klcore's own ` +
        `time per draw beyond the caller's function is ${Math.round(e.klcoreNsPerDraw.median)} ns (the function ` +
        `itself ${Math.round(user.nsPerDraw.median)} ns per draw, ${(100 * e.userShare.median).toFixed(1)}% of ` +
        "`fitVI`'s time).",
    );
  }
}
out.push("");
out.push("Targets, judged on this run:");
out.push("");
for (const t of run.targets) {
  const zc = t.zeroCopyValue !== undefined ? `; with \`WasmArray\` inputs ${times(t.zeroCopyValue)}` : "";
  const value = t.atMost
    ? `+${((t.value - 1) * 100).toFixed(1)}%, worst at ${t.workload.replace(/^kl /, "")}`
    : times(t.value);
  const verdictWord = t.met
    ? "**met**"
    : `**missed** by ${t.atMost ? `${((t.value - t.threshold) * 100).toFixed(1)} points` : `${(t.shortfall * 100).toFixed(0)}%`}`;
  out.push(`- ${t.description} (${thresholdText(t)}): ${verdictWord} (${value}${zc})`);
}
const browserPath = join(root, "bench/results/browser.json");
if (existsSync(browserPath)) out.push(...browserSummary(JSON.parse(readFileSync(browserPath, "utf8"))));
out.push("");
out.push(END);

/** The Chromium run in a few lines: the target workloads, the verdicts, relaxed SIMD. */
function browserSummary(b) {
  const bm = b.machine;
  const lines = [
    "",
    `In headless Chromium ${bm.chromium} (V8 ${bm.v8}), same machine, \`npm run bench:browser\` on ${bm.date.slice(0, 10)} ` +
      `(\`bench/results/browser.md\`; TF.js wasm on \`${b.peers.tfjsWasmBinary}\`; the run took ` +
      `${(b.durationSeconds / 60).toFixed(1)} minutes), klcore SIMD on the target workloads:`,
    "",
    row(["workload", "klcore SIMD per call", "vs JS loop", "vs TF.js wasm", "`WasmArray` inputs vs JS"]),
    "| --- | --: | --: | --: | --: |",
  ];
  const bs = b.suites;
  for (const [kernel, dtype] of [
    ["kl", "float32"],
    ["kl", "float64"],
  ]) {
    const w = bs.divergences?.workloads.find((x) => x.kernel === kernel && x.dtype === dtype && x.n === 1e6);
    if (!w) continue;
    const k = get(w, SIMD);
    lines.push(
      row([
        `\`${kernel}\` ${short(dtype)}, n = 1e6`,
        perCall(k.nsPerCall.median),
        cell(k.speedupVsJs.median),
        cell(k.speedupVsTfWasm?.median),
        cell(get(w, ZERO_COPY).speedupVsJs.median),
      ]),
    );
  }
  for (const [r, c] of [
    [64, 1000],
    [256, 10],
  ]) {
    const w = bs.xent?.workloads.find((x) => x.dtype === "float32" && x.rows === r && x.classes === c);
    if (!w) continue;
    const k = get(w, SIMD);
    lines.push(
      row([
        `\`crossEntropyWithLogits\` + gradient f32, ${r}x${c}`,
        perCall(k.nsPerCall.median),
        cell(k.speedupVsJs.median),
        cell(k.speedupVsTfWasm?.median),
        cell(get(w, ZERO_COPY).speedupVsJs.median),
      ]),
    );
  }
  for (const w of bs.train?.workloads ?? []) {
    const k = get(w, FIT);
    lines.push(
      row([
        `one epoch, ${w.model} (\`fit()\`)`,
        perCall(k.nsPerCall.median),
        cell(k.speedupVsJs.median),
        cell(k.speedupVsTfWasm?.median),
        "",
      ]),
    );
  }
  const met = b.targets.filter((t) => t.met);
  const missed = b.targets.filter((t) => !t.met);
  lines.push("");
  lines.push(
    `Targets judged on the Chromium run: ${met.length} of ${b.targets.length} met` +
      (missed.length
        ? `; missed: ${missed
            .map(
              (t) =>
                `${t.description} (${t.atMost ? `+${((t.value - 1) * 100).toFixed(1)}%` : times(t.value)})`,
            )
            .join("; ")}.`
        : "."),
  );
  const r = b.relaxedSimd;
  if (r) {
    lines.push("");
    lines.push(
      `Relaxed SIMD in Chromium (no flag needed): the dense kernels built with \`f32x4.relaxed_madd\` ran the ` +
        `${r.rows}x${r.inputs} -> ${r.outputs} layer's forward pass ${times(r.forward.speedup)} and its backward pass ` +
        `${times(r.backward.speedup)} as fast as the shipped \`add(mul)\`, their outputs ${r.drift.y.toExponential(1)} apart.`,
    );
  }
  return lines;
}

/**
 * The README's few lines: klcore SIMD's default call against the JS loop, TF.js wasm and PyTorch on
 * the largest workloads, and how many targets the run met.
 */
function headline() {
  const rows = [];
  const add = (label, w, klcore) => {
    const k = w && get(w, klcore);
    if (!k) return;
    rows.push(
      row([
        label,
        cell(k.speedupVsJs?.median),
        cell(k.speedupVsTfWasm?.median),
        cell(k.speedupVsTorch?.median),
      ]),
    );
  };
  const largest = Math.max(...(divergences?.settings.sizes ?? [0]));
  for (const dtype of ["float32", "float64"]) {
    const w = divergences?.workloads.find((x) => x.kernel === "kl" && x.dtype === dtype && x.n === largest);
    add(`\`kl\` ${short(dtype)}, n = ${exp10(largest)}`, w, SIMD);
  }
  const wide = (xent?.workloads ?? []).filter((x) => x.dtype === "float32");
  const x = wide.find((w) => w.classes === Math.max(...wide.map((v) => v.classes)));
  if (x) add(`\`crossEntropyWithLogits\` + gradient f32, ${x.rows}x${x.classes}`, x, SIMD);
  for (const w of train?.workloads ?? []) add(`one epoch, ${w.model} (\`fit()\`)`, w, FIT);
  for (const w of vi?.workloads ?? [])
    add(`one VI step, logistic regression, ${w.family} (\`fitVI\`)`, w, FIT_VI);
  const met = run.targets.filter((t) => t.met).length;
  return [
    HEADLINE_START,
    "",
    "<!-- Generated by scripts/readme-perf.mjs from bench/results/latest.json: edit those, not this. -->",
    "",
    `Speed-up of klcore SIMD's default call (validated, inputs copied in), > 1 = klcore faster, measured by ` +
      `\`npm run bench\` on ${machineLine(m)}` +
      (torchLine ? ` (PyTorch: ${torchLine})` : "") +
      ":",
    "",
    row(["workload", "vs JS loop", "vs TF.js wasm", "vs PyTorch CPU"]),
    "| --- | --: | --: | --: |",
    ...rows,
    "",
    `${met} of ${run.targets.length} performance targets met in that run; every table, the accuracy of each ` +
      "contender and the verdicts are in [docs/performance.md](docs/performance.md).",
    "",
    HEADLINE_END,
  ];
}

const check = process.argv.includes("--check");
const stale = [];

/**
 * Replaces the block between `start` and `end` in the file at `path` by `lines`, formatted; with
 * --check, only notes whether it would change.
 */
async function replaceBlock(path, start, end, lines) {
  const text = readFileSync(path, "utf8");
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${path} has no ${start} ... ${end} block`);
  // Formatted as the rest of the file is, so that regenerating and \`prettier --check\` agree.
  const options = (await prettier.resolveConfig(path)) ?? {};
  const block = (
    await prettier.format(lines.join("\n") + "\n", { ...options, parser: "markdown" })
  ).trimEnd();
  const next = text.slice(0, a) + block + text.slice(b + end.length);
  if (next === text) return;
  if (check) stale.push(path);
  else writeFileSync(path, next);
}

await replaceBlock(join(root, "docs/performance.md"), START, END, out);
await replaceBlock(join(root, "README.md"), HEADLINE_START, HEADLINE_END, headline());
if (check) {
  if (stale.length > 0) {
    console.error(`${stale.join(", ")}: not regenerated from bench/results/ (npm run bench:readme)`);
    process.exit(1);
  }
  console.log("docs/performance.md and README.md: the figures follow bench/results/.");
} else {
  console.log(
    `docs/performance.md and README.md: performance figures regenerated from bench/results/latest.json ` +
      `(${run.machine.date})${existsSync(browserPath) ? " and bench/results/browser.json" : ""}.`,
  );
}
