// The browser bundle (dist/klcore.browser.js, wasm embedded) in headless Chromium, driven by
// playwright-core with the system's Chromium (no browser download). The page is served from a
// local http server under `Content-Security-Policy: script-src 'self' 'wasm-unsafe-eval'` (the
// README's advice: no 'unsafe-eval'), computes a sample of the golden fixtures with the SIMD
// default instance and a scalar instance, and must give bit for bit the numbers Node gives with
// the same builds from dist/index.js: the divergences (test/fixtures/divergence.json) and the
// softmax family, the losses on logits and gaussianKL with their gradients
// (test/fixtures/losses.json), and fit() of seeded models on small seeded data: each epoch's
// figures, the trained parameters' bits and the predictions. While fit() runs, the page counts the
// event loop's turns, and one run is aborted from onBatch. The page code is test/browser/page.js.
//
// Without Chromium (CHROMIUM_PATH, default /usr/bin/chromium) the test is skipped with a warning,
// unless KLCORE_REQUIRE_BROWSER=1 (CI), where a missing Chromium fails.

import { existsSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as klcore from "../dist/index.js";
import type { CategoricalOptions, FitOptions, Klcore, MlpOptions, Model, ModelJSON } from "../dist/index.js";
import {
  close,
  decodeF64,
  decodeScalar,
  loadFixtures,
  rng,
  runCase,
  type DivergenceApi,
  type FixtureCase,
  type LossCase,
  relativeToScale,
} from "./helpers/fixtures.js";
import { CHROMIUM, FLAGS } from "../bench/browser/chromium.mjs";
import { runVI, viRuns, type VIRunResult } from "./browser/vi-runs.js";

const hasChromium = existsSync(CHROMIUM);
const requireBrowser = process.env.KLCORE_REQUIRE_BROWSER === "1";
const CSP = "script-src 'self' 'wasm-unsafe-eval'";
const ISOLATED = {
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-embedder-policy": "require-corp",
};

if (!hasChromium && !requireBrowser) {
  console.warn(`browser test skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`);
}

if (!hasChromium && requireBrowser) {
  describe("browser bundle", () => {
    it("needs Chromium (KLCORE_REQUIRE_BROWSER=1)", () => {
      throw new Error(
        `KLCORE_REQUIRE_BROWSER=1 but no Chromium at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH`,
      );
    });
  });
}

// ---- the sample: about one case per (fn, dtype, group), spreading over the option sets ----

/** A number as it crosses JSON: the values JSON cannot carry as strings (see page.js). */
type Wire = number | "NaN" | "Infinity" | "-Infinity" | "-0";

const encode = (x: number): Wire =>
  Number.isNaN(x)
    ? "NaN"
    : x === Infinity
      ? "Infinity"
      : x === -Infinity
        ? "-Infinity"
        : Object.is(x, -0)
          ? "-0"
          : x;

const SPECIAL: Record<string, number> = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity, "-0": -0 };

function decode(v: Wire): number {
  if (typeof v === "number") return v;
  const x = SPECIAL[v];
  if (x === undefined) throw new Error(`not a number on the wire: ${JSON.stringify(v)}`);
  return x;
}

interface WireCase {
  name: string;
  fn: string;
  dtype: "float32" | "float64";
  p: Wire[];
  q?: Wire[];
  options: Record<string, unknown>;
}

function pickSample(all: FixtureCase[]): FixtureCase[] {
  const combos = new Map<string, FixtureCase[]>();
  for (const c of all) {
    const key = `${c.fn}/${c.dtype}/${c.group}`;
    combos.set(key, [...(combos.get(key) ?? []), c]);
  }
  const seen = new Set<string>();
  const sample: FixtureCase[] = [];
  for (const mine of combos.values()) {
    // Prefer an option set this fn has not had yet; the middle one of the candidates.
    const fresh = mine.filter((c) => !seen.has(`${c.fn} ${JSON.stringify(c.options)}`));
    const from = fresh.length ? fresh : mine;
    const c = from[Math.floor(from.length / 2)]!;
    seen.add(`${c.fn} ${JSON.stringify(c.options)}`);
    sample.push(c);
  }
  return sample;
}

const sample = pickSample(loadFixtures("divergence.json"));
const numbersOf = (b64: string): number[] => Array.from(decodeF64(b64));
const wireCases: WireCase[] = sample.map((c) => ({
  name: c.name,
  fn: c.fn,
  dtype: c.dtype,
  p: numbersOf(c.p).map(encode),
  ...(c.q === undefined ? {} : { q: numbersOf(c.q).map(encode) }),
  options: c.options,
}));

// ---- Node's side: the same inputs, built the way the page builds them ----

type Api = DivergenceApi;

function input(values: Wire[], dtype: WireCase["dtype"]): Float32Array | Float64Array {
  const numbers = values.map(decode);
  return dtype === "float32" ? Float32Array.from(numbers) : Float64Array.from(numbers);
}

function run(k: Api, c: WireCase): number | Float32Array | Float64Array {
  const q = c.q === undefined ? undefined : input(c.q, c.dtype);
  return runCase(k, c.fn, input(c.p, c.dtype), q, c.options);
}

interface ErrorInfo {
  name?: string;
  message?: string;
  isRangeError: boolean;
  isError: boolean;
}
type Outcome = { value: number[] } | { error: ErrorInfo };

function nodeOutcome(k: Api, c: WireCase): Outcome {
  try {
    const r = run(k, c);
    return { value: typeof r === "number" ? [r] : Array.from(r) };
  } catch (e) {
    const err = e as Error;
    return {
      error: { name: err.name, message: err.message, isRangeError: e instanceof RangeError, isError: true },
    };
  }
}

// ---- the fixture check, with the tolerances of test/divergence.fixtures.test.ts ----

const ABS = { float64: 1e-15, float32: 1e-7 };

function fixtureMismatches(have: number[], c: FixtureCase): string[] {
  const rel = c.dtype === "float64" ? 1e-12 : 2e-6;
  const abs = c.fn === "jsDistance" ? Math.sqrt(ABS[c.dtype]) : ABS[c.dtype];
  const want =
    c.expectedShape === "array" ? Array.from(decodeF64(c.expected as string)) : [decodeScalar(c.expected)];
  if (have.length !== want.length) return [`length ${have.length} != ${want.length}`];
  const r = c.fn === "relEntr" && c.dtype === "float32" ? Math.max(rel, 2 ** -23) : rel;
  const bad: string[] = [];
  for (let i = 0; i < want.length; i++) {
    if (!close(have[i]!, want[i]!, r, abs)) bad.push(`[${i}] got ${have[i]} want ${want[i]}`);
  }
  return bad;
}

// ---- the loss sample: about one case per (fn, dtype, group, target kind, q given or not) ----

/** The arrays a loss case can give besides its loss, by the names of `expected`. */
const LOSS_ARRAYS = ["out", "grad", "gradPMean", "gradPLogVar", "gradQMean", "gradQLogVar"] as const;
/** Cases of more input numbers than MAX_ELEMENTS stay out (the page stays fast); one above LARGE goes in. */
const MAX_ELEMENTS = 10_000;
const LARGE = 1_000;

const allLossCases = loadFixtures("losses.json") as unknown as LossCase[];
const hasGrad = (c: LossCase): boolean => LOSS_ARRAYS.some((k) => k !== "out" && c.expected[k] !== undefined);
const elements = (c: LossCase): number =>
  Object.values(c.inputs).reduce((n, b64) => n + decodeF64(b64).length, 0);

/** What a case exercises; the sampler prefers cases that bring something not yet sampled. */
function traits(c: LossCase): string[] {
  const { loss, lossShape } = c.expected;
  const lossKind =
    loss === undefined ? "none" : typeof loss === "string" && lossShape !== "array" ? loss : "finite";
  return [
    `options ${c.fn} ${JSON.stringify(c.options)}`,
    `shape ${c.fn} ${String(lossShape ?? "scalar")}`,
    `target ${c.fn} ${String(c.targetKind)}`,
    `weights ${c.fn} ${c.inputs.weights !== undefined}`,
    `grad ${c.fn} ${hasGrad(c)}`,
    `loss ${lossKind}`,
    `length ${c.fn} ${elements(c) > 100 ? "over 100" : "up to 100"}`,
    `size ${elements(c) > LARGE ? "large" : "small"}`,
  ];
}

function pickLossSample(all: LossCase[]): LossCase[] {
  const combos = new Map<string, LossCase[]>();
  for (const c of all) {
    if (elements(c) > MAX_ELEMENTS) continue;
    const key = `${c.fn}/${c.dtype}/${c.group}/${String(c.targetKind)}/${c.inputs.qMean !== undefined}`;
    combos.set(key, [...(combos.get(key) ?? []), c]);
  }
  const seen = new Set<string>();
  const sample: LossCase[] = [];
  for (const mine of combos.values()) {
    // The candidate with the most traits not sampled yet; ties go to the one nearest the middle.
    const middle = (mine.length - 1) / 2;
    const order = mine.map((c, i) => ({ c, d: Math.abs(i - middle) })).sort((a, b) => a.d - b.d);
    let best = order[0]!.c;
    let bestScore = -1;
    for (const { c } of order) {
      const score = traits(c).filter((t) => !seen.has(t)).length;
      if (score > bestScore) [best, bestScore] = [c, score];
    }
    for (const t of traits(best)) seen.add(t);
    sample.push(best);
  }
  return sample;
}

interface LossWireCase {
  name: string;
  fn: string;
  dtype: "float32" | "float64";
  targetKind?: "index" | "probs";
  inputs: Record<string, Wire[]>;
  options: Record<string, unknown>;
  grad: boolean;
}

const lossSample = pickLossSample(allLossCases);
const lossWireCases: LossWireCase[] = lossSample.map((c) => ({
  name: c.name,
  fn: c.fn,
  dtype: c.dtype,
  ...(c.targetKind === undefined ? {} : { targetKind: c.targetKind }),
  inputs: Object.fromEntries(Object.entries(c.inputs).map(([k, b64]) => [k, numbersOf(b64).map(encode)])),
  options: c.options,
  grad: hasGrad(c),
}));

// ---- Node's side of the losses, built the way the page builds them ----

type LossApi = Pick<
  Klcore,
  | "logSumExp"
  | "softmax"
  | "logSoftmax"
  | "crossEntropyWithLogits"
  | "klWithLogits"
  | "binaryCrossEntropyWithLogits"
  | "gaussianKL"
>;
type Numbers = number | Float32Array | Float64Array;
/** A number or an array with its constructor's name ("number" for a number). */
interface Entry {
  type: string;
  values: number[];
}
type LossValue = Record<string, Entry>;
type LossOutcome = { value: LossValue } | { error: ErrorInfo };

const entry = (x: Numbers): Entry =>
  typeof x === "number"
    ? { type: "number", values: [x] }
    : { type: x.constructor.name, values: Array.from(x) };

function runLoss(k: LossApi, c: LossWireCase): Record<string, Numbers | undefined> {
  const arr = (key: string): Float32Array | Float64Array => {
    const values = c.inputs[key];
    if (values === undefined) throw new Error(`${c.name}: no input ${key}`);
    return input(values, c.dtype);
  };
  switch (c.fn) {
    case "logSumExp":
      return { out: k.logSumExp(arr("logits"), c.options) };
    case "softmax":
      return { out: k.softmax(arr("logits"), c.options) };
    case "logSoftmax":
      return { out: k.logSoftmax(arr("logits"), c.options) };
    case "gaussianKL": {
      const p = { mean: arr("pMean"), logVar: arr("pLogVar") };
      const q = c.inputs.qMean === undefined ? undefined : { mean: arr("qMean"), logVar: arr("qLogVar") };
      const r = k.gaussianKL(p, q, { ...c.options, grad: c.grad } as never);
      return {
        loss: r.loss as Numbers,
        gradPMean: r.grad?.p.mean,
        gradPLogVar: r.grad?.p.logVar,
        gradQMean: r.grad?.q?.mean,
        gradQLogVar: r.grad?.q?.logVar,
      };
    }
  }
  const options: Record<string, unknown> = { ...c.options, grad: c.grad };
  if (c.inputs.weights !== undefined) options.weights = arr("weights");
  // Class indices as a plain number[]; probabilities (and BCE targets) in the case's precision.
  const target = c.targetKind === "index" ? (c.inputs.target ?? []).map(decode) : arr("target");
  const logits = arr("logits");
  let r: { loss: Numbers; grad?: Float32Array | Float64Array };
  switch (c.fn) {
    case "crossEntropyWithLogits":
      r = k.crossEntropyWithLogits(target, logits, options as never);
      break;
    case "klWithLogits":
      r = k.klWithLogits(target as Float32Array | Float64Array, logits, options as never);
      break;
    case "binaryCrossEntropyWithLogits":
      r = k.binaryCrossEntropyWithLogits(target as Float32Array | Float64Array, logits, options as never);
      break;
    default:
      throw new Error(`unknown fn ${c.fn}`);
  }
  return { loss: r.loss, grad: r.grad };
}

function nodeLossOutcome(k: LossApi, c: LossWireCase): LossOutcome {
  try {
    const value: LossValue = {};
    for (const [key, x] of Object.entries(runLoss(k, c))) if (x !== undefined) value[key] = entry(x);
    return { value };
  } catch (e) {
    const err = e as Error;
    return {
      error: { name: err.name, message: err.message, isRangeError: e instanceof RangeError, isError: true },
    };
  }
}

// ---- the loss fixture check, with the tolerances of test/softmax.fixtures.test.ts ----

function lossFixtureMismatches(got: LossValue, c: LossCase): string[] {
  const f64 = c.dtype === "float64";
  const rel = f64 ? 1e-11 : 3e-5;
  const rowTol = f64 ? 1e-10 : 2e-5;
  const bad: string[] = [];
  const { loss, lossShape } = c.expected;
  if (loss === undefined) {
    if (got.loss !== undefined) bad.push("a loss, none expected");
  } else if (got.loss === undefined) {
    bad.push("no loss");
  } else {
    const want = lossShape === "array" ? Array.from(decodeF64(loss as string)) : [decodeScalar(loss)];
    const have = got.loss.values;
    if ((lossShape === "array") !== (got.loss.type === "Float64Array"))
      bad.push(`loss is a ${got.loss.type}, want ${lossShape === "array" ? "Float64Array" : "number"}`);
    if (have.length !== want.length) bad.push(`loss length ${have.length} != ${want.length}`);
    want.forEach((w, i) => {
      if (!close(have[i]!, w, rel, f64 ? 1e-14 : 1e-6)) bad.push(`loss[${i}] ${have[i]} want ${w}`);
    });
  }
  for (const key of LOSS_ARRAYS) {
    const b64 = c.expected[key];
    const have = got[key]?.values;
    if (b64 === undefined) {
      if (have !== undefined) bad.push(`${key} given, none expected`);
      continue;
    }
    if (have === undefined) {
      bad.push(`${key} missing`);
      continue;
    }
    const want = decodeF64(b64 as string);
    // logSumExp and logSoftmax values are logs: compare each against its own size.
    const perValue = key === "out" && c.fn !== "softmax";
    const err = perValue
      ? have.length === want.length && want.every((w, i) => close(have[i]!, w, rel, f64 ? 1e-12 : 1e-5))
        ? 0
        : Infinity
      : relativeToScale(have, want, 1e-300);
    if (!(err <= rowTol)) bad.push(`${key}: error ${err} of its scale`);
  }
  return bad;
}

// ---- the training runs: seeded models, seeded data, served to the page as JSON ----

const TRAIN_ROWS = 48;
const TRAIN_INPUTS = 4;
const TRAIN_CLASSES = 3;

interface TrainRun {
  name: string;
  model: { kind: "mlp"; options: MlpOptions } | { kind: "categorical"; options: CategoricalOptions };
  data: { x?: number[][]; y: number[] | number[][] };
  /** FitOptions that JSON carries (no callbacks, no signal). */
  options: Pick<
    FitOptions,
    "loss" | "optimizer" | "learningRate" | "epochs" | "batchSize" | "seed" | "validation" | "workers"
  >;
  /** The onBatch call that aborts the run's AbortController. */
  abortAt?: { epoch: number; batch: number };
}

/**
 * TRAIN_ROWS rows of features in [-1, 1) (float32 values), with targets that follow them: class
 * indices (argmax of fixed linear scores) or probabilities (their softmax). Without features, the
 * targets are draws from a fixed distribution, or random probability rows.
 */
function trainingData(
  seed: number,
  targets: "indices" | "probabilities",
  features: boolean,
): TrainRun["data"] {
  const r = rng(seed);
  const W = [
    [1, -1, 0.5, 0],
    [0, 1, -1, 0.5],
    [-0.5, 0, 1, -1],
  ];
  if (!features) {
    const y = Array.from({ length: TRAIN_ROWS }, () => {
      if (targets === "indices") {
        const u = r();
        return u < 0.5 ? 0 : u < 0.8 ? 1 : 2;
      }
      const raw = Array.from({ length: TRAIN_CLASSES }, () => 0.05 + r());
      const sum = raw.reduce((a, b) => a + b, 0);
      return raw.map((v) => v / sum);
    });
    return { y } as TrainRun["data"];
  }
  const x = Array.from({ length: TRAIN_ROWS }, () =>
    Array.from({ length: TRAIN_INPUTS }, () => Math.fround(2 * r() - 1)),
  );
  const scores = x.map((row) => W.map((w) => w.reduce((s, wi, i) => s + wi * row[i]!, 0)));
  if (targets === "indices") return { x, y: scores.map((s) => s.indexOf(Math.max(...s))) };
  const y = scores.map((s) => {
    const e = s.map((v) => Math.exp(2 * v));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / sum);
  });
  return { x, y };
}

const mlpOf = (activation: "relu" | "tanh", seed: number): TrainRun["model"] => ({
  kind: "mlp",
  options: { inputs: TRAIN_INPUTS, hidden: [8], classes: TRAIN_CLASSES, activation, seed },
});
const categoricalModel: TrainRun["model"] = { kind: "categorical", options: { classes: TRAIN_CLASSES } };
// 36 training rows in batches of 8: five batches per epoch, the last of 4 rows.
const FIT = { epochs: 3, batchSize: 8, validation: 0.25 } as const;

const trainRuns: TrainRun[] = [
  {
    name: "mlp relu, class indices, kl, adam",
    model: mlpOf("relu", 11),
    data: trainingData(1, "indices", true),
    options: { ...FIT, loss: "kl", learningRate: 0.05, seed: 3 },
  },
  {
    name: "mlp tanh, probabilities, kl, adam",
    model: mlpOf("tanh", 12),
    data: trainingData(2, "probabilities", true),
    options: { ...FIT, loss: "kl", learningRate: 0.05, seed: 4 },
  },
  {
    name: "mlp relu, probabilities, js, sgd",
    model: mlpOf("relu", 13),
    data: trainingData(3, "probabilities", true),
    options: { ...FIT, loss: "js", optimizer: "sgd", learningRate: 0.5, seed: 5 },
  },
  {
    name: "mlp tanh, class indices, js, adam",
    model: mlpOf("tanh", 14),
    data: trainingData(4, "indices", true),
    options: { ...FIT, loss: "js", learningRate: 0.05, seed: 6 },
  },
  {
    name: "categorical, probabilities, kl, adam",
    model: categoricalModel,
    data: trainingData(5, "probabilities", false),
    options: { ...FIT, loss: "kl", learningRate: 0.1, seed: 7 },
  },
  {
    name: "categorical, class indices, mse, adam",
    model: categoricalModel,
    data: trainingData(6, "indices", false),
    options: { ...FIT, loss: "mse", learningRate: 0.1, seed: 8 },
  },
  {
    name: "mlp relu, class indices, kl, aborted in epoch 2",
    model: mlpOf("relu", 15),
    data: trainingData(7, "indices", true),
    options: { ...FIT, loss: "kl", learningRate: 0.05, seed: 9 },
    abortAt: { epoch: 2, batch: 2 },
  },
  {
    // Node trains in 2 worker threads; the train page (not cross-origin isolated) runs the same
    // step on one thread, the workers page in 2 Web Workers: the same bits.
    name: "mlp relu, class indices, kl, adam, workers: 2",
    model: mlpOf("relu", 16),
    data: trainingData(8, "indices", true),
    options: { ...FIT, loss: "kl", learningRate: 0.05, seed: 10, workers: 2 },
  },
];

// ---- Node's side of the training, run the way the page runs it ----

/** An epoch's figures but its wall time (the one field identical runs may differ in), encoded. */
type WireStats = Record<string, Wire | boolean | null>;
interface Trained {
  history: WireStats[];
  result: Record<string, unknown>;
  model: ModelJSON;
  predict: Wire[];
  /** fit's result.threads (the page reports it; Node's side leaves it out). */
  threads?: number;
}
interface TurnCounts {
  /** Turns of a setTimeout(0) chain and of a MessageChannel ping chain. */
  timeouts: number;
  pings: number;
  /** User-blocking scheduler.postTask tasks run, one posted per onBatch; null without postTask. */
  probes: number | null;
}
interface Turns extends TurnCounts {
  /** The counts each onBatch call saw, and when (performance.now()). */
  atBatch: (TurnCounts & { t: number })[];
}
type TrainOutcome = { value: Trained; turns: Turns } | { error: ErrorInfo };

const modelOf = (k: Klcore, spec: TrainRun["model"]): Model =>
  spec.kind === "mlp" ? k.mlp(spec.options) : k.categorical(spec.options);

const wireStats = (s: object): WireStats =>
  Object.fromEntries(
    Object.entries(s)
      .filter(([key]) => key !== "time")
      .map(([key, v]) => [key, typeof v === "number" ? encode(v) : (v as boolean | null)]),
  );

async function nodeTraining(k: Klcore, run: TrainRun): Promise<{ value: Trained } | { error: ErrorInfo }> {
  const model = modelOf(k, run.model);
  try {
    const controller = new AbortController();
    const r = await klcore.fit(model, run.data, {
      ...run.options,
      signal: controller.signal,
      onBatch: (info) => {
        if (run.abortAt && info.epoch === run.abortAt.epoch && info.batch === run.abortAt.batch)
          controller.abort();
      },
    });
    return {
      value: {
        history: r.history.map(wireStats),
        result: {
          stoppedEarly: r.stoppedEarly,
          diverged: r.diverged,
          divergedAt: r.divergedAt,
          stopReason: r.stopReason,
          bestEpoch: r.bestEpoch,
        },
        model: model.toJSON(),
        predict: Array.from(model.predict(run.data.x ?? null), encode),
      },
    };
  } catch (e) {
    const err = e as Error;
    return {
      error: { name: err.name, message: err.message, isRangeError: e instanceof RangeError, isError: true },
    };
  } finally {
    model.dispose();
  }
}

/**
 * Where two trainings differ. Numbers travel encoded (NaN and -0 as strings) and JSON gives every
 * finite double back exactly, so equal JSON is equal bits; parameters are base64 float32 bytes.
 */
function trainDifferences(browser: TrainOutcome, node: { value: Trained } | { error: ErrorInfo }): string[] {
  if ("error" in browser || "error" in node) {
    const b = "error" in browser ? JSON.stringify(browser.error) : "no error";
    const n = "error" in node ? JSON.stringify(node.error) : "no error";
    return b === n ? [] : [`browser ${b}, node ${n}`];
  }
  const b = browser.value;
  const n = node.value;
  const bad: string[] = [];
  if (b.history.length !== n.history.length)
    bad.push(`epochs: browser ${b.history.length} node ${n.history.length}`);
  n.history.forEach((s, i) => {
    const bs = JSON.stringify(b.history[i]);
    if (bs !== JSON.stringify(s)) bad.push(`epoch ${i + 1}: browser ${bs} node ${JSON.stringify(s)}`);
  });
  if (JSON.stringify(b.result) !== JSON.stringify(n.result))
    bad.push(`result: browser ${JSON.stringify(b.result)} node ${JSON.stringify(n.result)}`);
  const { parameters: bp, ...bArch } = b.model;
  const { parameters: np, ...nArch } = n.model;
  if (JSON.stringify(bArch) !== JSON.stringify(nArch)) bad.push(`architecture: ${JSON.stringify(bArch)}`);
  np.forEach((p, i) => {
    if (JSON.stringify(bp[i]) !== JSON.stringify(p)) bad.push(`parameter ${p.name} differs`);
  });
  if (bp.length !== np.length) bad.push(`parameters: browser ${bp.length} node ${np.length}`);
  const predict = differences({ value: b.predict.map(decode) }, { value: n.predict.map(decode) });
  if (predict !== undefined) bad.push(`predict: ${predict}`);
  return bad;
}

// ---- the page's reports ----

interface BackendInfo {
  simd: boolean;
  build: string;
  memoryBytes: number;
}
type WireOutcome = { value: Wire[] } | { error: ErrorInfo };
interface Violation {
  directive: string;
  blocked: string;
}
interface Common {
  mode: string;
  violations: Violation[];
  fatal?: string;
}
interface GoldenReport extends Common {
  initBackend: BackendInfo;
  backend: BackendInfo;
  scalarBackend: BackendInfo;
  fmaBackend: BackendInfo | null;
  results: { simd: WireOutcome; scalar: WireOutcome; fma?: WireOutcome }[];
  thrown: ErrorInfo | null;
  evalBlocked: boolean;
}
type WireLossOutcome = { value: Record<string, { type: string; values: Wire[] }> } | { error: ErrorInfo };
interface LossReport extends Common {
  backend: BackendInfo;
  scalarBackend: BackendInfo;
  fmaBackend: BackendInfo | null;
  results: { simd: WireLossOutcome; scalar: WireLossOutcome; fma?: WireLossOutcome }[];
}
interface TrainReport extends Common {
  backend: BackendInfo;
  scalarBackend: BackendInfo;
  /** A long fit() aborted from a setTimeout(0): how it stopped, after how many of how many epochs. */
  timerAbort: { stopReason: string; epochs: number; of: number; ms: number };
  results: { simd: TrainOutcome; scalar: TrainOutcome }[];
}
interface VIReport extends Common {
  backend: BackendInfo;
  scalarBackend: BackendInfo;
  results: Record<"simd" | "scalar", { value: VIRunResult } | { error: ErrorInfo }>[];
  timerAbort: { stopReason: string; steps: number; of: number };
}
interface WorkersReport extends Common {
  isolated: boolean;
  cores: number;
  results: { simd: TrainOutcome; scalar: TrainOutcome }[];
  auto: { threads: number; stopReason: string };
  fault: {
    rejected: ErrorInfo | null;
    exited: ErrorInfo | null;
    keptFirstStep: boolean;
    after: { threads: number; stopReason: string };
  };
  warnings: string[];
}
interface NoWorkerReport extends Common {
  isolated: boolean;
  trained: TrainOutcome;
  warnings: string[];
}
type LazyReport = Common &
  ({ ok: true; value: Wire; backend: BackendInfo } | { ok: false; error: ErrorInfo });

const fromWire = (o: WireOutcome): Outcome => ("value" in o ? { value: o.value.map(decode) } : o);

const fromWireLoss = (o: WireLossOutcome): LossOutcome =>
  "value" in o
    ? {
        value: Object.fromEntries(
          Object.entries(o.value).map(([k, e]) => [k, { type: e.type, values: e.values.map(decode) }]),
        ),
      }
    : o;

/** Where two outcomes differ: values compared with Object.is (bit for bit, NaN equals NaN). */
function differences(browser: Outcome, node: Outcome): string | undefined {
  if ("error" in browser || "error" in node) {
    const b = JSON.stringify(browser);
    const n = JSON.stringify(node);
    return b === n ? undefined : `browser ${b} node ${n}`;
  }
  if (browser.value.length !== node.value.length)
    return `length ${browser.value.length} != ${node.value.length}`;
  const bad: string[] = [];
  for (let i = 0; i < node.value.length; i++) {
    const b = browser.value[i]!;
    const n = node.value[i]!;
    if (!Object.is(b, n)) bad.push(`[${i}] browser ${b} node ${n}`);
  }
  return bad.length ? bad.slice(0, 3).join("; ") : undefined;
}

/** Where two loss outcomes differ: the same names, array types and lengths, values by Object.is. */
function lossDifferences(browser: LossOutcome, node: LossOutcome): string | undefined {
  if ("error" in browser || "error" in node) {
    const b = JSON.stringify(browser);
    const n = JSON.stringify(node);
    return b === n ? undefined : `browser ${b} node ${n}`;
  }
  const keys = Object.keys(node.value).sort();
  const browserKeys = Object.keys(browser.value).sort();
  if (keys.join() !== browserKeys.join()) return `browser gives ${browserKeys.join()}, node ${keys.join()}`;
  const bad: string[] = [];
  for (const key of keys) {
    const b = browser.value[key]!;
    const n = node.value[key]!;
    if (b.type !== n.type) bad.push(`${key}: browser ${b.type} node ${n.type}`);
    const diff = differences({ value: b.values }, { value: n.values });
    if (diff !== undefined) bad.push(`${key}: ${diff}`);
  }
  return bad.length ? bad.join("; ") : undefined;
}

// ---- server and browser ----

const root = fileURLToPath(new URL("..", import.meta.url));
const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
};
const PAGE =
  '<!doctype html>\n<meta charset="utf-8">\n<script type="module" src="/test/browser/page.js"></script>\n';

describe.skipIf(!hasChromium)("browser bundle in headless Chromium", () => {
  let server: Server | undefined;
  let browser: Browser | undefined;
  let base = "";
  const waiting = new Map<string, (report: Common) => void>();
  const pageLog: string[] = [];

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (req.method === "POST" && url.pathname === "/report") {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        res.writeHead(204).end();
        const report = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Common;
        waiting.get(report.mode)?.(report);
      });
      return;
    }
    if (url.pathname === "/") {
      // The workers page is cross-origin isolated, so it has SharedArrayBuffer and Web Workers.
      const mode = url.searchParams.get("mode");
      const isolation = mode === "workers" || mode === "noworker" ? ISOLATED : {};
      res.writeHead(200, {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": CSP,
        ...isolation,
      });
      res.end(PAGE);
      return;
    }
    if (url.pathname === "/favicon.ico") {
      res.writeHead(204).end();
      return;
    }
    if (url.pathname === "/cases.json") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(wireCases));
      return;
    }
    if (url.pathname === "/loss-cases.json") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(lossWireCases));
      return;
    }
    if (url.pathname === "/train-runs.json") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(trainRuns));
      return;
    }
    // The noworker page's worker module is missing.
    if (url.pathname === "/dist/klcore.worker.js" && /[?&]mode=noworker\b/.test(req.headers.referer ?? "")) {
      res.writeHead(404).end();
      return;
    }
    // Static files: dist/ and test/browser/ only.
    const file = resolve(root, `.${decodeURIComponent(url.pathname)}`);
    const allowed = [resolve(root, "dist") + sep, resolve(root, "test", "browser") + sep];
    const type = TYPES[extname(file)];
    if (!allowed.some((dir) => file.startsWith(dir)) || type === undefined || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    // An isolated page's workers must be isolated too; on other pages the header does nothing.
    res
      .writeHead(200, { "content-type": type, "cross-origin-embedder-policy": "require-corp" })
      .end(readFileSync(file));
  }

  /** Opens the page in `mode` in a fresh page and resolves with what it reports. */
  async function visit<R extends Common>(mode: string): Promise<R> {
    const page = await browser!.newPage();
    page.on("console", (m) => pageLog.push(`[${mode}] console.${m.type()}: ${m.text()}`));
    page.on("pageerror", (e) => pageLog.push(`[${mode}] pageerror: ${e.message}`));
    try {
      const report = new Promise<Common>((resolveReport, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no report from the page (${mode}) within 15 s:\n${pageLog.join("\n")}`)),
          15_000,
        );
        waiting.set(mode, (r) => {
          clearTimeout(timer);
          resolveReport(r);
        });
      });
      await page.goto(`${base}/?mode=${mode}`);
      const r = await report;
      if (r.fatal !== undefined) throw new Error(`page (${mode}) failed: ${r.fatal}\n${pageLog.join("\n")}`);
      return r as R;
    } finally {
      waiting.delete(mode);
      await page.close();
    }
  }

  let golden: GoldenReport;
  let losses: LossReport;
  let lazy: LazyReport;
  let training: TrainReport;
  let variational: VIReport;
  let isolated: WorkersReport;
  let missing: NoWorkerReport;

  // The cases of a build's results that miss their fixture's expectations (an error thrown counts):
  // each a line naming the case and its first three mismatches.
  type Build = "simd" | "scalar" | "fma";
  const fixtureFailures = (build: Build): string[] =>
    sample.flatMap((c, i) => {
      const got = fromWire(golden.results[i]![build]!);
      const bad =
        "error" in got ? [`threw ${got.error.name}: ${got.error.message}`] : fixtureMismatches(got.value, c);
      return bad.length ? [`${c.name} ${JSON.stringify(c.options)}: ${bad.slice(0, 3).join("; ")}`] : [];
    });
  const lossFixtureFailures = (build: Build): string[] =>
    lossSample.flatMap((c, i) => {
      const got = fromWireLoss(losses.results[i]![build]!);
      const bad =
        "error" in got
          ? [`threw ${got.error.name}: ${got.error.message}`]
          : lossFixtureMismatches(got.value, c);
      return bad.length ? [`${c.name}: ${bad.slice(0, 3).join("; ")}`] : [];
    });

  beforeAll(async () => {
    server = createServer(handle);
    await new Promise<void>((ready) => server!.listen(0, "127.0.0.1", ready));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 30_000 });
    golden = await visit<GoldenReport>("golden");
    losses = await visit<LossReport>("losses");
    lazy = await visit<LazyReport>("lazy");
    training = await visit<TrainReport>("train");
    variational = await visit<VIReport>("vi");
    isolated = await visit<WorkersReport>("workers");
    missing = await visit<NoWorkerReport>("noworker");
  });

  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
  });

  it("runs the SIMD build under script-src 'self' 'wasm-unsafe-eval', with eval refused", () => {
    expect(golden.initBackend.simd).toBe(true);
    expect(golden.backend).toMatchObject({ simd: true, build: "simd" });
    expect(golden.scalarBackend).toMatchObject({ simd: false, build: "scalar" });
    // The policy is in force (eval refused) and refused nothing klcore needs.
    expect(golden.evalBlocked).toBe(true);
    expect(golden.violations.filter((v) => v.blocked !== "eval")).toEqual([]);
  });

  it("samples every fn, dtype and group of the golden fixtures", () => {
    expect(sample.length).toBeGreaterThanOrEqual(50);
    expect(golden.results).toHaveLength(sample.length);
    const all = loadFixtures("divergence.json");
    for (const key of ["fn", "dtype", "group"] as const) {
      expect(new Set(sample.map((c) => c[key]))).toEqual(new Set(all.map((c) => c[key])));
    }
  });

  for (const [build, make] of [
    ["simd", () => klcore.createInstanceSync({ simd: true })],
    ["scalar", () => klcore.createInstanceSync({ simd: false })],
  ] as const) {
    it(`gives the same numbers as Node, bit for bit (${build} build)`, () => {
      const k = make();
      expect(k.backend().build).toBe(build);
      const failures: string[] = [];
      sample.forEach((c, i) => {
        const diff = differences(fromWire(golden.results[i]![build]), nodeOutcome(k, wireCases[i]!));
        if (diff !== undefined) failures.push(`${c.name} ${JSON.stringify(c.options)}: ${diff}`);
      });
      expect(failures).toEqual([]);
    });

    it(`matches the fixture expectations (${build} build)`, () => {
      expect(fixtureFailures(build)).toEqual([]);
    });
  }

  it("runs the loss sample on the SIMD default instance and a scalar instance, nothing refused", () => {
    expect(losses.backend).toMatchObject({ simd: true, build: "simd" });
    expect(losses.scalarBackend).toMatchObject({ simd: false, build: "scalar" });
    expect(losses.violations).toEqual([]);
  });

  it("samples every fn, dtype and group of the loss fixtures, and their kinds of case", () => {
    expect(lossSample.length).toBeGreaterThanOrEqual(36);
    expect(lossSample.length).toBeLessThanOrEqual(48);
    expect(losses.results).toHaveLength(lossSample.length);
    const combos = (cases: LossCase[]) => new Set(cases.map((c) => `${c.fn}/${c.dtype}/${c.group}`));
    expect(combos(lossSample)).toEqual(combos(allLossCases));
    const has = (f: (c: LossCase) => boolean) => lossSample.some(f);
    for (const kind of ["index", "probs"]) {
      for (const fn of ["crossEntropyWithLogits", "klWithLogits"]) {
        if (allLossCases.some((c) => c.fn === fn && c.targetKind === kind))
          expect(
            has((c) => c.fn === fn && c.targetKind === kind),
            `${fn} ${kind}`,
          ).toBe(true);
      }
    }
    expect(has((c) => c.expected.lossShape === "array")).toBe(true);
    expect(has((c) => c.expected.loss === "Infinity")).toBe(true);
    expect(has((c) => c.inputs.weights !== undefined)).toBe(true);
    expect(has((c) => c.fn === "gaussianKL" && c.inputs.qMean !== undefined)).toBe(true);
    expect(has((c) => c.fn === "gaussianKL" && c.inputs.qMean === undefined)).toBe(true);
    expect(has((c) => elements(c) > LARGE)).toBe(true);
    for (const grad of [true, false]) {
      expect(has((c) => c.fn === "crossEntropyWithLogits" && hasGrad(c) === grad)).toBe(true);
    }
  });

  for (const [build, make] of [
    ["simd", () => klcore.createInstanceSync({ simd: true })],
    ["scalar", () => klcore.createInstanceSync({ simd: false })],
  ] as const) {
    it(`gives the same losses, gradients and outputs as Node, bit for bit (${build} build)`, () => {
      const k = make();
      expect(k.backend().build).toBe(build);
      const failures: string[] = [];
      lossSample.forEach((c, i) => {
        const diff = lossDifferences(
          fromWireLoss(losses.results[i]![build]),
          nodeLossOutcome(k, lossWireCases[i]!),
        );
        if (diff !== undefined) failures.push(`${c.name}: ${diff}`);
      });
      expect(failures).toEqual([]);
    });

    it(`matches the loss fixture expectations (${build} build)`, () => {
      expect(lossFixtureFailures(build)).toEqual([]);
    });
  }

  // Chromium ships relaxed SIMD: the FMA build loads there and holds the fixtures' bounds (its bits
  // may differ from the SIMD build's and from another engine's, so only the bounds are checked).
  it("loads the FMA build, which matches the fixture and loss fixture expectations", () => {
    expect(golden.fmaBackend).toMatchObject({ simd: true, build: "fma" });
    expect(losses.fmaBackend).toMatchObject({ simd: true, build: "fma" });
    expect(golden.results.every((r) => r.fma !== undefined)).toBe(true);
    expect(losses.results.every((r) => r.fma !== undefined)).toBe(true);
    expect([...fixtureFailures("fma"), ...lossFixtureFailures("fma")]).toEqual([]);
  });

  it("throws a RangeError naming p[1] for a negative element, as in Node", () => {
    expect(golden.thrown).not.toBeNull();
    expect(golden.thrown).toMatchObject({ name: "RangeError", isRangeError: true, isError: true });
    expect(golden.thrown!.message).toMatch(/\bp\[1\]/);
    let nodeMessage = "";
    try {
      klcore.kl([0.5, -0.5, 1], [0.3, 0.3, 0.4]);
    } catch (e) {
      nodeMessage = (e as Error).message;
    }
    expect(golden.thrown!.message).toBe(nodeMessage);
  });

  it("initialises itself synchronously on the main thread when kl() comes before init()", () => {
    expect(lazy).toMatchObject({ ok: true, backend: { simd: true, build: "simd" } });
    if (!lazy.ok) return;
    expect(Object.is(decode(lazy.value), klcore.kl([0.25, 0.75], [0.5, 0.5]))).toBe(true);
    expect(lazy.violations.filter((v) => v.blocked !== "eval")).toEqual([]);
  });

  it("trains every run on the SIMD default instance and a scalar instance, nothing refused", () => {
    expect(training.backend).toMatchObject({ simd: true, build: "simd" });
    expect(training.scalarBackend).toMatchObject({ simd: false, build: "scalar" });
    expect(training.violations).toEqual([]);
    expect(training.results).toHaveLength(trainRuns.length);
    const failed = training.results.flatMap((r, i) =>
      (["simd", "scalar"] as const).flatMap((build) => {
        const o = r[build];
        return "error" in o ? [`${trainRuns[i]!.name} (${build}): ${o.error.name}: ${o.error.message}`] : [];
      }),
    );
    expect(failed).toEqual([]);
  });

  for (const [build, make] of [
    ["simd", () => klcore.createInstanceSync({ simd: true })],
    ["scalar", () => klcore.createInstanceSync({ simd: false })],
  ] as const) {
    // tanh included: both builds compute it inside the wasm (the scalar one with AssemblyScript's own
    // Math.tanh, not the engine's: the module imports nothing but env.abort), so no tolerance.
    it(`fit() gives the same figures, parameters and predictions as Node, bit for bit (${build} build)`, async () => {
      const k = make();
      expect(k.backend().build).toBe(build);
      const failures: string[] = [];
      for (const [i, run] of trainRuns.entries()) {
        const diff = trainDifferences(training.results[i]![build], await nodeTraining(k, run));
        if (diff.length) failures.push(`${run.name}: ${diff.slice(0, 3).join("; ")}`);
      }
      expect(failures).toEqual([]);
    });
  }

  it("fit() lets the event loop turn between batches", () => {
    let total = 0;
    for (const [i, r] of training.results.entries()) {
      for (const build of ["simd", "scalar"] as const) {
        const at = `${trainRuns[i]!.name} (${build})`;
        const o = r[build];
        if ("error" in o) throw new Error(`${at} failed`);
        const { turns } = o;
        const batches = o.value.history.reduce((n, s) => n + (s.batches as number), 0);
        total += batches;
        expect(turns.atBatch, at).toHaveLength(batches);
        if (turns.probes !== null) {
          // fit yields after the first batch, then whenever 16 ms have passed since it resumed
          // from the last turn (before the next batch, so at or before that batch's onBatch): a
          // turn after batch b shows as the tasks posted up to b having run by batch b + 1.
          const probes = turns.atBatch.map((t) => t.probes!);
          const times = turns.atBatch.map((t) => t.t);
          if (batches > 1) expect(probes[1], at).toBe(1);
          let resumed = 1;
          for (let b = 1; b + 1 < batches; b++) {
            const turned = probes[b + 1]! > probes[b]!;
            if (times[b]! - times[resumed]! >= 16) expect(turned, `${at}, after batch ${b + 1}`).toBe(true);
            if (turned) {
              // Every task posted before the turn ran in it.
              expect(probes[b + 1], at).toBe(b + 1);
              resumed = b + 1;
            }
          }
        }
        // Tasks of the page's own run between batches too: its MessageChannel ping chain turns.
        if (batches > 1) expect(turns.atBatch.at(-1)!.pings, at).toBeGreaterThan(turns.atBatch[0]!.pings);
      }
    }
    expect(total).toBeGreaterThan(0);
  });

  it("fit's workers: one thread where the page is not cross-origin isolated, 2 Web Workers where it is, the same bits as Node's worker threads", async () => {
    const withWorkers = trainRuns.flatMap((run, i) => (run.options.workers ? [i] : []));
    expect(withWorkers.length).toBeGreaterThan(0);
    for (const i of withWorkers) {
      for (const build of ["simd", "scalar"] as const) {
        const o = training.results[i]![build];
        if ("error" in o) throw new Error(`${trainRuns[i]!.name} (${build}) failed: ${o.error.message}`);
        expect(o.value.threads).toBe(1);
      }
    }
    expect(isolated.isolated).toBe(true);
    expect(isolated.warnings).toEqual([]);
    const failures: string[] = [];
    for (const [j, i] of withWorkers.entries()) {
      for (const build of ["simd", "scalar"] as const) {
        const o = isolated.results[j]![build];
        if ("error" in o) throw new Error(`${trainRuns[i]!.name} (${build}) failed: ${o.error.message}`);
        expect(o.value.threads).toBe(2);
        const k = klcore.createInstanceSync({ simd: build === "simd" });
        const diff = trainDifferences(o, await nodeTraining(k, trainRuns[i]!));
        if (diff.length) failures.push(`${trainRuns[i]!.name} (${build}): ${diff.slice(0, 3).join("; ")}`);
      }
    }
    expect(failures).toEqual([]);
    expect(isolated.auto).toEqual({ threads: Math.min(isolated.cores, 8), stopReason: "completed" });
  });

  it("a worker module that does not load: fit trains on one thread, the same bits, and warns once why", async () => {
    expect(missing.isolated).toBe(true);
    const o = missing.trained;
    if ("error" in o) throw new Error(`fit failed: ${o.error.message}`);
    expect(o.value.threads).toBe(1);
    const run = trainRuns.find((r) => r.options.workers)!;
    expect(trainDifferences(o, await nodeTraining(klcore.createInstanceSync({ simd: true }), run))).toEqual(
      [],
    );
    expect(missing.warnings).toHaveLength(1);
    expect(missing.warnings[0]).toMatch(
      /^klcore fit\(\): the workers option trains on one thread here .*the Web Worker http:\/\/127\.0\.0\.1:\d+\/dist\/klcore\.worker\.js did not start/,
    );
  });

  it("a Web Worker that throws or exits during fit() rejects it; the model keeps its last step and trains again", () => {
    const { fault } = isolated;
    expect(fault.rejected?.message).toMatch(
      /^fit\(\): worker 1 failed: .*test fault in worker 1 at step 2.*; the model keeps the parameters of its last step/,
    );
    expect(fault.exited?.message).toMatch(/^fit\(\): worker 1 stopped \(exit code 3\) during training/);
    expect(fault.keptFirstStep).toBe(true);
    expect(fault.after).toEqual({ threads: 2, stopReason: "completed" });
  });

  it("an abort from a timer stops a long fit() soon: timers get their turn between batches", () => {
    // 100,000 one-batch epochs; the page aborts from setTimeout(0). A yield that ran ahead of timers
    // (scheduler.yield in Chromium) would let all of them run first.
    const t = training.timerAbort;
    expect(t.stopReason).toBe("aborted");
    expect(t.epochs).toBeLessThan(t.of / 10);
  });

  it("an AbortController aborted from onBatch stops fit() with stopReason 'aborted'", () => {
    const i = trainRuns.findIndex((r) => r.abortAt !== undefined);
    const { epoch, batch } = trainRuns[i]!.abortAt!;
    for (const build of ["simd", "scalar"] as const) {
      const o = training.results[i]![build];
      if ("error" in o) throw new Error(`${build}: ${o.error.message}`);
      expect(o.value.result).toMatchObject({ stopReason: "aborted", stoppedEarly: false, diverged: false });
      // The aborted epoch keeps the batches run before the signal was seen, marked incomplete.
      expect(o.value.history).toHaveLength(epoch);
      expect(o.value.history.at(-1)).toMatchObject({ epoch, batches: batch, complete: false });
    }
  });
  for (const [build, make] of [
    ["simd", () => klcore.createInstanceSync({ simd: true })],
    ["scalar", () => klcore.createInstanceSync({ simd: false })],
  ] as const) {
    // Draws, transform, gradients, optimiser and built-in targets all run in the wasm, with
    // AssemblyScript's own log, exp, sqrt and cos: the same seed must give the same bits.
    it(`fitVI gives the same q, diagnostics, history and samples as Node, bit for bit (${build} build)`, async () => {
      expect(variational.backend).toMatchObject({ simd: true, build: "simd" });
      expect(variational.scalarBackend).toMatchObject({ simd: false, build: "scalar" });
      expect(variational.violations).toEqual([]);
      const k = make();
      for (const [i, run] of viRuns.entries()) {
        const got = variational.results[i]![build];
        if ("error" in got) throw new Error(`${run.name} (${build}): ${got.error.message}`);
        expect(got.value, run.name).toEqual(await runVI(k, klcore.adam, run));
      }
    });
  }

  it("an abort from a timer stops a long fitVI() soon", () => {
    const t = variational.timerAbort;
    expect(t.stopReason).toBe("aborted");
    expect(t.steps).toBeGreaterThan(0);
    expect(t.steps).toBeLessThan(t.of / 10);
  });
});
