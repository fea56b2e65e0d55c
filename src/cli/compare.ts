// klcore compare-losses: why train by minimising KL and not MSE. The same model, from the same
// initialisation and data, is trained with each loss (KL, MSE, L1, Jensen-Shannon), and the KL
// from the target to the model is measured along the way whatever loss was optimised. Each loss
// gets its own learning rate, the best of a stated grid, so none is handicapped by a bad one.
//
// zipf: a free categorical distribution fitted to a Zipf target from the uniform start, full batch,
// once with SGD (where MSE's gradient, which carries a factor q_k, vanishes for the small
// probabilities) and once with Adam (which rescales every gradient). No randomness enters, so each
// (loss, rate) runs once and the tuning run at the chosen rate is the result.
// digits: softmax regression and an MLP on the embedded digits, Adam; the rate is tuned on seed 0
// (a validation split of its training rows), then seeds 1..N each draw a held-out split, an
// initialisation and a shuffling, shared by every loss.
//
// Everything but the wall times is deterministic: the same seeds give the same files.

import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { backend, categorical, fit, mlp, softmaxRegression, type LossName, type Model } from "klcore";
import { choiceOption, integerOption, parseCommand, stringOption } from "./args.js";
import { chartSpec, chartVersions, KL_FLOOR, renderSvg, type ChartPanel, type ChartPoint } from "./chart.js";
import { findColumn, labelCells, numericColumns, readFailure, readTable, sortLabels } from "./csv.js";
import { cannotWrite, digitsMissing } from "./errors.js";
import { fitScaling, scaledRows, writeAtomically } from "./modelfile.js";
import { packageJson, packageRoot } from "./package.js";
import { toJson } from "./output.js";
import { pct, seconds } from "./progress.js";
import { splitRows } from "./random.js";

// ---- settings ----

const LOSSES: readonly { id: LossName; name: string }[] = [
  { id: "kl", name: "KL (cross-entropy)" },
  { id: "mse", name: "MSE" },
  { id: "l1", name: "L1" },
  { id: "js", name: "Jensen-Shannon" },
];

interface ZipfSettings {
  classes: number;
  exponent: number;
  steps: number;
  recordEvery: number;
  threshold: number;
  grids: { sgd: number[]; adam: number[] };
}

interface DigitsSettings {
  /** The CSV file; dataName says it in the report. */
  data: string;
  dataName: string;
  /** Every rowStep-th row of the file is used (1: all). */
  rowStep: number;
  heldOut: number;
  epochs: number;
  batchSize: number;
  hidden: number[];
  threshold: number;
  grid: number[];
}

interface Settings {
  quick: boolean;
  tasks: ("zipf" | "digits")[];
  seeds: number[];
  tuningSeed: number;
  zipf: ZipfSettings;
  digits: DigitsSettings;
}

function settingsOf(
  task: "zipf" | "digits" | "all",
  seeds: number,
  quick: boolean,
  digits: string | undefined,
): Settings {
  const tasks: Settings["tasks"] = task === "all" ? ["zipf", "digits"] : [task];
  const full = !quick;
  return {
    quick,
    tasks,
    seeds: Array.from({ length: seeds }, (_, i) => i + 1),
    tuningSeed: 0,
    zipf: {
      classes: full ? 1000 : 50,
      exponent: 1,
      steps: full ? 2000 : 100,
      recordEvery: full ? 10 : 5,
      threshold: 0.01,
      // Six half-decade steps around each optimiser's useful range; --quick takes two.
      grids: full
        ? { sgd: [1, 3, 10, 30, 100, 300], adam: [0.001, 0.003, 0.01, 0.03, 0.1, 0.3] }
        : { sgd: [3, 30], adam: [0.01, 0.1] },
    },
    digits: {
      data: digits ?? join(packageRoot(), "data", "digits.csv"),
      dataName: digits ?? "data/digits.csv (the embedded digits)",
      rowStep: full ? 1 : 4,
      heldOut: 0.2,
      epochs: full ? 40 : 3,
      batchSize: 32,
      hidden: full ? [64] : [16],
      threshold: 0.2,
      grid: full ? [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2] : [1e-3, 1e-2],
    },
  };
}

// ---- runs ----

interface Curve {
  /** Optimiser steps (zipf) or epochs (digits); 0 is the start. */
  x: number[];
  kl: number[];
  /** Held-out accuracy (digits). */
  accuracy?: number[];
}

interface Run {
  loss: LossName;
  learningRate: number;
  seed: number | null;
  curve: Curve;
  finalKl: number;
  /** The first step (or epoch) whose KL is below the threshold; null if none. */
  stepsToThreshold: number | null;
  accuracy: number | null;
  stopReason: string;
  timeMs: number;
}

interface Range {
  median: number;
  min: number;
  max: number;
}

interface Summary {
  loss: LossName;
  name: string;
  learningRate: number;
  runs: number;
  finalKl: Range;
  stepsToThreshold: (Range & { reached: number }) | { reached: 0 };
  accuracy: Range | null;
  timeMs: number;
}

interface TaskResult {
  id: string;
  title: string;
  optimizer: "sgd" | "adam";
  xTitle: string;
  threshold: number;
  grid: number[];
  /** How the rate was chosen and the runs made. */
  method: string;
  tuning: Run[];
  chosen: Record<string, number>;
  runs: Run[];
  summary: Summary[];
}

/** Curves keep 6 significant digits: plenty for a plot or a comparison, and half the file. */
const sig = (v: number): number => (Number.isFinite(v) ? Number(v.toPrecision(6)) : v);

const firstBelow = (c: Curve, threshold: number): number | null => {
  const i = c.kl.findIndex((v) => v < threshold);
  return i < 0 ? null : c.x[i]!;
};

/** A categorical model fitted to `target` (one row of probabilities) for `steps` full-batch steps. */
async function zipfRun(
  target: Float64Array,
  loss: LossName,
  optimizer: "sgd" | "adam",
  rate: number,
  z: ZipfSettings,
): Promise<Run> {
  const model = categorical({ classes: z.classes });
  // KL before each step: fit measures every batch before its update.
  const before: number[] = [];
  const started = performance.now();
  const result = await fit(
    model,
    { y: target },
    {
      loss,
      optimizer,
      learningRate: rate,
      epochs: z.steps,
      batchSize: 1,
      shuffle: false,
      onEpoch: (e) => void before.push(e.kl),
    },
  );
  const timeMs = performance.now() - started;
  const finalKl = model.evaluate(null, target).kl;
  model.dispose();
  const all = [...before, finalKl];
  const curve: Curve = { x: [], kl: [] };
  all.forEach((v, step) => {
    if (step % z.recordEvery === 0 || step === all.length - 1) {
      curve.x.push(step);
      curve.kl.push(sig(v));
    }
  });
  const reached = all.findIndex((v) => v < z.threshold);
  return {
    loss,
    learningRate: rate,
    seed: null,
    curve,
    finalKl,
    stepsToThreshold: reached < 0 ? null : reached,
    accuracy: null,
    stopReason: result.stopReason,
    timeMs,
  };
}

interface DigitsData {
  x: Float64Array;
  y: Int32Array;
  inputs: number;
  classes: number;
}

interface Split {
  trainX: Float32Array;
  trainY: Int32Array;
  testX: Float32Array;
  testY: Int32Array;
}

/** A seeded random `fraction` of the rows `use` held out, and the rest (row numbers of the file). */
function splitOf(use: Int32Array, fraction: number, seed: number): { train: Int32Array; test: Int32Array } {
  const parts = splitRows(use.length, Math.round(use.length * fraction), seed);
  return { train: parts.train.map((i) => use[i]!), test: parts.held.map((i) => use[i]!) };
}

/** The model's inputs: the rows standardised with the training rows' means and deviations. */
function prepare(d: DigitsData, rows: { train: Int32Array; test: Int32Array }): Split {
  const scaling = fitScaling(d.x, d.inputs, rows.train);
  return {
    trainX: scaledRows(d.x, d.inputs, rows.train, scaling),
    trainY: rows.train.map((r) => d.y[r]!),
    testX: scaledRows(d.x, d.inputs, rows.test, scaling),
    testY: rows.test.map((r) => d.y[r]!),
  };
}

async function digitsRun(
  d: DigitsData,
  s: Split,
  kind: "softmax" | "mlp",
  loss: LossName,
  rate: number,
  seed: number,
  g: DigitsSettings,
): Promise<Run> {
  const model: Model =
    kind === "mlp"
      ? mlp({ inputs: d.inputs, hidden: g.hidden, classes: d.classes, activation: "relu", seed })
      : softmaxRegression({ inputs: d.inputs, classes: d.classes, seed });
  const start = model.evaluate(s.testX, s.testY);
  const curve: Curve = { x: [0], kl: [sig(start.kl)], accuracy: [start.accuracy] };
  let last: { valKl: number | null; valAccuracy: number | null } | null = null;
  const started = performance.now();
  const result = await fit(
    model,
    { x: s.trainX, y: s.trainY },
    {
      loss,
      optimizer: "adam",
      learningRate: rate,
      epochs: g.epochs,
      batchSize: g.batchSize,
      seed,
      validation: { x: s.testX, y: s.testY },
      onEpoch: (e) => {
        curve.x.push(e.epoch);
        curve.kl.push(sig(e.valKl!));
        curve.accuracy!.push(e.valAccuracy!);
        last = e;
      },
    },
  );
  const timeMs = performance.now() - started;
  // After divergence (or without a single epoch) the parameters are those of the last finite step:
  // measure those.
  const end = result.diverged || !last ? model.evaluate(s.testX, s.testY) : null;
  model.dispose();
  return {
    loss,
    learningRate: rate,
    seed,
    curve,
    finalKl: end ? end.kl : last!.valKl!,
    stepsToThreshold: firstBelow(curve, g.threshold),
    accuracy: end ? end.accuracy : last!.valAccuracy!,
    stopReason: result.stopReason,
    timeMs,
  };
}

// ---- choosing rates and summarising ----

/**
 * A final KL below this is float32's floor on these tasks (the curves' tails wander between 1e-7 and
 * 5e-7): runs that end under it are equally converged, whatever rounding left them at.
 */
const CONVERGED_KL = 1e-5;

/**
 * The rate whose run ended with the lowest KL; runs that all end below CONVERGED_KL are tied, and the
 * one that reached the threshold in the fewest steps wins among them (a diverged or non-finite run
 * never wins; remaining ties: the smaller rate). Without the floor, the choice among converged runs
 * would follow the last bits of float32 rounding.
 */
function choose(runs: readonly Run[]): number {
  const final = (r: Run): number =>
    r.stopReason === "diverged" || !Number.isFinite(r.finalKl) ? Infinity : Math.max(r.finalKl, CONVERGED_KL);
  const steps = (r: Run): number => r.stepsToThreshold ?? Infinity;
  let best = runs[0]!;
  for (const r of runs) {
    if (final(r) < final(best) || (final(r) === final(best) && steps(r) < steps(best))) best = r;
  }
  return best.learningRate;
}

function median(values: readonly number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

const rangeOf = (values: readonly number[]): Range => ({
  median: median(values),
  min: Math.min(...values),
  max: Math.max(...values),
});

function summarise(runs: readonly Run[], loss: { id: LossName; name: string }, rate: number): Summary {
  const mine = runs.filter((r) => r.loss === loss.id);
  const reached = mine.flatMap((r) => (r.stepsToThreshold === null ? [] : [r.stepsToThreshold]));
  const accuracies = mine.flatMap((r) => (r.accuracy === null ? [] : [r.accuracy]));
  return {
    loss: loss.id,
    name: loss.name,
    learningRate: rate,
    runs: mine.length,
    finalKl: rangeOf(mine.map((r) => r.finalKl)),
    stepsToThreshold: reached.length ? { ...rangeOf(reached), reached: reached.length } : { reached: 0 },
    accuracy: accuracies.length ? rangeOf(accuracies) : null,
    timeMs: median(mine.map((r) => r.timeMs)),
  };
}

// ---- the tasks ----

type Log = (line: string) => void;

function zipfTarget(z: ZipfSettings): Float64Array {
  const p = Float64Array.from({ length: z.classes }, (_, k) => (k + 1) ** -z.exponent);
  const sum = p.reduce((a, b) => a + b, 0);
  return p.map((v) => v / sum);
}

async function zipfTask(z: ZipfSettings, optimizer: "sgd" | "adam", log: Log): Promise<TaskResult> {
  const target = zipfTarget(z);
  const id = `zipf-${optimizer}`;
  const grid = z.grids[optimizer];
  const tuning: Run[] = [];
  const chosen: Record<string, number> = {};
  for (const loss of LOSSES) {
    const mine: Run[] = [];
    for (const rate of grid) mine.push(await zipfRun(target, loss.id, optimizer, rate, z));
    tuning.push(...mine);
    chosen[loss.id] = choose(mine);
    log(
      `${id}: ${loss.id} rates ${grid.join(", ")}: final KL ${mine.map((r) => fmtKl(r.finalKl)).join(", ")}; chose ${chosen[loss.id]}`,
    );
  }
  const runs = tuning.filter((r) => r.learningRate === chosen[r.loss]);
  const classes = z.classes.toLocaleString("en-US");
  return {
    id,
    title: `Zipf target, ${classes} classes, ${optimizer === "sgd" ? "SGD" : "Adam"}`,
    optimizer,
    xTitle: "optimiser step",
    threshold: z.threshold,
    grid,
    method:
      "No randomness enters (uniform start, exact target, full batch), so each rate runs once; the rate " +
      "with the lowest final KL is chosen (final KLs below 1e-5, float32's floor here, count as tied, " +
      "and the fewest steps to the threshold decides among them), and its run is the one reported.",
    tuning,
    chosen,
    runs,
    summary: LOSSES.map((l) => summarise(runs, l, chosen[l.id]!)),
  };
}

function readDigits(g: DigitsSettings): DigitsData {
  if (!existsSync(g.data)) throw digitsMissing(g.data);
  const table = readTable(g.data);
  const labelColumn = findColumn(table, "label", "the digit");
  const features = table.header.map((_, c) => c).filter((c) => c !== labelColumn);
  const cells = labelCells(table, labelColumn);
  const x = numericColumns(table, features);
  table.problems.check();
  const labels = sortLabels(cells);
  const classOf = new Map(labels.map((l, k) => [l, k]));
  return {
    x,
    y: Int32Array.from(cells, (l) => classOf.get(l)!),
    inputs: features.length,
    classes: labels.length,
  };
}

async function digitsTask(
  d: DigitsData,
  kind: "softmax" | "mlp",
  s: Settings,
  log: Log,
): Promise<TaskResult> {
  const g = s.digits;
  const id = `digits-${kind}`;
  const use = Int32Array.from({ length: Math.ceil(d.y.length / g.rowStep) }, (_, i) => i * g.rowStep);
  // Tuning: seed 0's training rows, split again; its held-out rows are never looked at.
  const tuneSplit = prepare(d, splitOf(splitOf(use, g.heldOut, s.tuningSeed).train, g.heldOut, s.tuningSeed));
  const tuning: Run[] = [];
  const chosen: Record<string, number> = {};
  for (const loss of LOSSES) {
    const mine: Run[] = [];
    for (const rate of g.grid) mine.push(await digitsRun(d, tuneSplit, kind, loss.id, rate, s.tuningSeed, g));
    tuning.push(...mine);
    chosen[loss.id] = choose(mine);
    log(
      `${id}: ${loss.id} rates ${g.grid.join(", ")}: validation KL ${mine.map((r) => fmtKl(r.finalKl)).join(", ")}; chose ${chosen[loss.id]}`,
    );
  }
  const runs: Run[] = [];
  for (const seed of s.seeds) {
    const split = prepare(d, splitOf(use, g.heldOut, seed));
    for (const loss of LOSSES) runs.push(await digitsRun(d, split, kind, loss.id, chosen[loss.id]!, seed, g));
  }
  log(`${id}: ${s.seeds.length} seed${s.seeds.length === 1 ? "" : "s"} x ${LOSSES.length} losses done`);
  const arch = kind === "mlp" ? `MLP ${[d.inputs, ...g.hidden, d.classes].join("-")}` : "softmax regression";
  return {
    id,
    title: `digits, ${arch}, Adam (held-out KL)`,
    optimizer: "adam",
    xTitle: "epoch",
    threshold: g.threshold,
    grid: g.grid,
    method:
      `Each rate trains on seed ${s.tuningSeed}'s training rows less a random ${pct(g.heldOut)} for ` +
      "validation; the rate with the lowest validation KL after the last epoch is chosen, then every seed " +
      "runs at that rate and is measured on its own held-out rows.",
    tuning,
    chosen,
    runs,
    summary: LOSSES.map((l) => summarise(runs, l, chosen[l.id]!)),
  };
}

// ---- the report ----

function fmtKl(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential(2) : v.toPrecision(3);
}

const fmtRange = (r: Range, f: (v: number) => string, runs: number): string =>
  runs === 1 || r.min === r.max ? f(r.median) : `${f(r.median)} (${f(r.min)} to ${f(r.max)})`;

function markdown(
  s: Settings,
  tasks: readonly TaskResult[],
  versions: Versions,
  command: string,
  totalMs: number,
): string {
  const out: string[] = [
    "# Loss comparison: KL, MSE, L1 and Jensen-Shannon",
    "",
    `Made by \`${command}\` with klcore ${versions.klcore} (${versions.build} build), Node ${versions.node}, ` +
      `vega ${versions.vega}, vega-lite ${versions.vegaLite}. Every loss trains the same model from the same ` +
      "initialisation on the same data; the KL from the target to the model is measured whatever loss was " +
      "optimised. Each loss has its own learning rate, chosen from the grid below. The same seeds give the same " +
      "numbers; only the wall times vary.",
    "",
    "![KL from the target to the model against step, a line per loss](loss-comparison.svg)",
    "",
  ];
  for (const t of tasks) {
    const digits = t.id.startsWith("digits");
    const unit = digits ? "epochs" : "steps";
    const last = t.runs[0]?.curve.x.at(-1) ?? 0;
    out.push(`## ${t.title}`, "");
    out.push(
      digits
        ? `Median (range) over ${s.seeds.length} seed${s.seeds.length === 1 ? "" : "s"}; KL and accuracy on the held-out rows after ${last} epochs.`
        : `One run per loss (no randomness enters); KL after ${last} steps.`,
      "",
    );
    const head = [
      "loss",
      "learning rate",
      digits ? "held-out KL" : "final KL",
      `${unit} to KL < ${t.threshold}`,
    ];
    if (digits) head.push("held-out accuracy");
    head.push("wall time");
    out.push(`| ${head.join(" | ")} |`, `| ${head.map((_, i) => (i < 1 ? "---" : "---:")).join(" | ")} |`);
    for (const r of t.summary) {
      const st = r.stepsToThreshold;
      const steps =
        st.reached === 0
          ? "not reached"
          : st.reached < r.runs
            ? `${String((st as Range).median)} (${(st as Range).min} to ${(st as Range).max}; reached in ${st.reached} of ${r.runs} runs)`
            : fmtRange(st as Range, String, r.runs);
      const row = [r.name, String(r.learningRate), fmtRange(r.finalKl, fmtKl, r.runs), steps];
      if (digits) row.push(r.accuracy ? fmtRange(r.accuracy, pct, r.runs) : "");
      row.push(seconds(r.timeMs));
      out.push(`| ${row.join(" | ")} |`);
    }
    out.push("", `Learning rates. ${t.method} Final KL at each rate (bold: chosen):`, "");
    out.push(`| loss | ${t.grid.join(" | ")} |`, `| --- | ${t.grid.map(() => "---:").join(" | ")} |`);
    for (const l of LOSSES) {
      const cells = t.grid.map((rate) => {
        const r = t.tuning.find((x) => x.loss === l.id && x.learningRate === rate)!;
        const v = fmtKl(r.finalKl) + (r.stopReason === "diverged" ? " (diverged)" : "");
        return rate === t.chosen[l.id] ? `**${v}**` : v;
      });
      out.push(`| ${l.name} | ${cells.join(" | ")} |`);
    }
    out.push("");
  }
  const z = s.zipf;
  const g = s.digits;
  out.push("## Settings", "");
  if (s.tasks.includes("zipf")) {
    out.push(
      `- zipf: a free categorical distribution softmax(theta) over ${z.classes} classes, theta = 0 (uniform) ` +
        `at the start, fitted to p_k proportional to 1/k^${z.exponent} by ${z.steps} full-batch steps; KL ` +
        `recorded every ${z.recordEvery} steps (the threshold step is exact). SGD rates ${z.grids.sgd.join(", ")}; ` +
        `Adam rates ${z.grids.adam.join(", ")}. Threshold KL < ${z.threshold}.`,
    );
  }
  if (s.tasks.includes("digits")) {
    out.push(
      `- digits: ${g.dataName}${g.rowStep > 1 ? ` (every ${g.rowStep}th row)` : ""}, ` +
        `pixels standardised on the training rows; a seeded random ${pct(g.heldOut)} held out per seed; ` +
        `softmax regression and an MLP with hidden layers [${g.hidden.join(", ")}] (relu); Adam, ${g.epochs} epochs, ` +
        `batch ${g.batchSize}; rates ${g.grid.join(", ")}; seeds ${s.seeds.join(", ")} (tuning seed ` +
        `${s.tuningSeed}). Threshold held-out KL < ${g.threshold}.`,
    );
  }
  out.push(
    `- KL values below ${KL_FLOOR} are drawn at ${KL_FLOOR} in the chart (a log scale has no 0); the chart shows the ` +
      "median curve over the seeds.",
    `- Wall time: each run's training (fit), median over the seeds; the whole command took ${seconds(totalMs)}.`,
    "",
  );
  return out.join("\n");
}

interface Versions {
  klcore: string;
  build: string;
  node: string;
  vega: string;
  vegaLite: string;
}

/** The median curve over a task's runs of one loss (runs cut short contribute where they have points). */
function medianCurve(runs: readonly Run[]): { x: number; kl: number }[] {
  const at = new Map<number, number[]>();
  for (const r of runs) r.curve.x.forEach((x, i) => at.set(x, [...(at.get(x) ?? []), r.curve.kl[i]!]));
  return [...at.entries()].sort((a, b) => a[0] - b[0]).map(([x, v]) => ({ x, kl: median(v) }));
}

// ---- the command ----

export async function compareLosses(args: readonly string[]): Promise<void> {
  const c = "compare-losses";
  const { values: v } = parseCommand(
    c,
    args,
    {
      task: { type: "string" },
      seeds: { type: "string" },
      out: { type: "string" },
      quick: { type: "boolean" },
      digits: { type: "string" },
    },
    { names: [], required: 0 },
  );
  const quick = v.quick === true;
  const task = choiceOption(c, "--task", v.task, "all", ["zipf", "digits", "all"] as const);
  const seeds = integerOption(c, "--seeds", v.seeds, quick ? 2 : 5, 1);
  const out = stringOption(v.out) ?? ".";
  const s = settingsOf(task, seeds, quick, stringOption(v.digits));
  // The command as it affects the numbers (not --out, not --digits' location).
  const command = [
    "klcore compare-losses",
    `--task ${task}`,
    `--seeds ${seeds}`,
    ...(quick ? ["--quick"] : []),
  ].join(" ");
  const log: Log = (line) => process.stderr.write(`${line}\n`);

  // The folder first: a failure to make it should not wait for the runs.
  try {
    if (!existsSync(out)) mkdirSync(out, { recursive: true });
  } catch (e) {
    throw cannotWrite(out, readFailure(e));
  }
  const started = performance.now();
  const digits = s.tasks.includes("digits") ? readDigits(s.digits) : null;
  const tasks: TaskResult[] = [];
  if (s.tasks.includes("zipf")) {
    tasks.push(await zipfTask(s.zipf, "sgd", log));
    tasks.push(await zipfTask(s.zipf, "adam", log));
  }
  if (digits) {
    tasks.push(await digitsTask(digits, "softmax", s, log));
    tasks.push(await digitsTask(digits, "mlp", s, log));
  }

  const chart = await chartVersions();
  const versions: Versions = {
    klcore: packageJson().version ?? "unknown",
    build: backend().build,
    node: process.version,
    vega: chart.vega,
    vegaLite: chart.vegaLite,
  };
  const panels: ChartPanel[] = tasks.map((t) => ({
    id: t.id,
    title: t.title,
    xTitle: t.xTitle,
    threshold: t.threshold,
  }));
  const points: ChartPoint[] = tasks.flatMap((t) =>
    LOSSES.flatMap((l) =>
      medianCurve(t.runs.filter((r) => r.loss === l.id)).map((p) => ({
        panel: t.id,
        loss: l.name,
        x: p.x,
        // The chart needs no more digits than a pixel resolves.
        kl: Number(p.kl.toPrecision(4)),
      })),
    ),
  );
  const spec = chartSpec(
    panels,
    points,
    LOSSES.map((l) => l.name),
  );
  const svg = await renderSvg(spec);
  const totalMs = performance.now() - started;

  const json = {
    format: "klcore-loss-comparison",
    version: 1,
    command,
    versions,
    // The data by name: its path differs from one checkout to another.
    settings: {
      ...s,
      zipf: s.tasks.includes("zipf") ? s.zipf : undefined,
      digits: s.tasks.includes("digits") ? { ...s.digits, data: undefined } : undefined,
      losses: LOSSES,
    },
    tasks,
    totalTimeMs: totalMs,
  };
  writeAtomically(join(out, "loss-comparison.md"), markdown(s, tasks, versions, command, totalMs));
  writeAtomically(join(out, "loss-comparison.json"), `${toJson(json)}\n`);
  writeAtomically(join(out, "loss-comparison.svg"), `${svg}\n`);
  writeAtomically(join(out, "loss-comparison.vl.json"), `${toJson(spec)}\n`);

  const lines = [`loss comparison (${command}), ${seconds(totalMs)}:`];
  for (const t of tasks) {
    lines.push(`  ${t.title}`);
    for (const r of t.summary) {
      lines.push(
        `    ${r.name.padEnd(20)} lr ${String(r.learningRate).padEnd(6)} final KL ${fmtKl(r.finalKl.median).padEnd(9)}` +
          (r.accuracy ? ` accuracy ${pct(r.accuracy.median)}` : ""),
      );
    }
  }
  lines.push(
    `wrote ${["md", "json", "svg", "vl.json"].map((e) => join(out, `loss-comparison.${e}`)).join(", ")}`,
  );
  console.log(lines.join("\n"));
}
