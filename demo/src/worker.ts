// The training worker: one per panel, single-threaded inside. It runs klcore's fit() or fitVI() and
// sends the figures to the page, at most about 100 messages a second, so the page's main thread
// only draws.

import {
  adagrad,
  adam,
  categorical,
  cosineSchedule,
  fit,
  fitVI,
  holdOut,
  loadModel,
  mlp,
  rmsprop,
  sgd,
  softmaxRegression,
  standardize,
  targets,
  type LossName,
  type Model,
  type Optimizer,
  type Standardizer,
} from "klcore";
import digitsCsv from "../../data/digits.csv";
import { Gate } from "./gate.js";
import type { FromWorker, ToWorker } from "./protocol.js";
import type { DigitsSettings, KlSettings, OptimizerName, ViSettings } from "./state.js";
import { GAUSSIAN, START, target2D } from "./targets.js";
import { normals } from "./random.js";
import { TUNED, LOSSES, ZIPF } from "./tuned.js";

interface WorkerScope {
  postMessage(message: FromWorker): void;
  onmessage: ((event: { data: ToWorker }) => void) | null;
}
const scope = globalThis as unknown as WorkerScope;

// ---- sending: figures are queued and flushed at most every FLUSH_MS, and whenever the loop waits ----

const FLUSH_MS = 10;
let klQueue: { x: number[]; values: (number | null)[][] } | null = null;
let viQueue: Extract<FromWorker, { type: "vi-frame" }> | null = null;
let lastFlush = 0;

function flush(): void {
  if (klQueue && klQueue.x.length) scope.postMessage({ type: "kl-points", ...klQueue });
  if (klQueue) klQueue = { x: [], values: klQueue.values.map(() => []) };
  if (viQueue) scope.postMessage(viQueue);
  viQueue = null;
  lastFlush = performance.now();
}

function maybeFlush(): void {
  if (performance.now() - lastFlush >= FLUSH_MS) flush();
}

let gate: Gate | null = null;
const makeGate = (perSecond: number): Gate =>
  new Gate(perSecond, flush, (status) => scope.postMessage({ type: "status", status }));

function optimizer(name: OptimizerName, learningRate: number | ((step: number) => number)): Optimizer {
  switch (name) {
    case "sgd":
      return sgd({ learningRate });
    case "adam":
      return adam({ learningRate });
    case "rmsprop":
      return rmsprop({ learningRate });
    case "adagrad":
      return adagrad({ learningRate });
  }
}

// ---- the digits, as the loss comparison and `klcore train` read them ----

interface Digits {
  x: Float64Array;
  y: Int32Array;
  rows: number;
}

function readDigits(): Digits {
  const lines = digitsCsv.trim().split("\n").slice(1);
  const x = new Float64Array(lines.length * 64);
  const y = new Int32Array(lines.length);
  lines.forEach((line, r) => {
    const cells = line.split(",").map(Number);
    x.set(cells.slice(0, 64), r * 64);
    y[r] = cells[64]!;
  });
  return { x, y, rows: lines.length };
}

function rowsOf(d: Digits, rows: Int32Array): Float64Array {
  const out = new Float64Array(rows.length * 64);
  rows.forEach((r, i) => out.set(d.x.subarray(r * 64, r * 64 + 64), i * 64));
  return out;
}

interface Split {
  heldOut: Int32Array;
  scaler: Standardizer;
  trainX: Float32Array;
  trainY: Int32Array;
  testX: Float32Array;
  testY: Int32Array;
}

/** A stratified 20% held out (seeded), the pixels standardised on the training rows. */
function split(d: Digits, seed: number): Split {
  const parts = holdOut(d.rows, Math.round(d.rows * 0.2), { labels: d.y, seed });
  const scaler = standardize(rowsOf(d, parts.train), { inputs: 64 });
  return {
    heldOut: parts.held,
    scaler,
    trainX: scaler.transform(rowsOf(d, parts.train)),
    trainY: parts.train.map((r) => d.y[r]!),
    testX: scaler.transform(rowsOf(d, parts.held)),
    testY: parts.held.map((r) => d.y[r]!),
  };
}

// ---- panel 1: the four losses side by side ----

/**
 * Runs `count` training loops in step: each calls arrive() after a step and waits there until all
 * the others have arrived too (or left), so that the chart gets one point per loss per step.
 */
class Lockstep {
  private readonly values: (number | null)[];
  private readonly active: boolean[];
  private waiting: (() => void)[] = [];
  private step: number | null = null;
  private busy = false;

  constructor(
    count: number,
    private readonly onStep: (step: number, values: (number | null)[]) => Promise<void>,
  ) {
    this.values = new Array<number | null>(count).fill(null);
    this.active = new Array<boolean>(count).fill(true);
  }

  arrive(i: number, step: number, value: number): Promise<void> {
    this.values[i] = value;
    this.step = step;
    const wait = new Promise<void>((r) => this.waiting.push(r));
    void this.check();
    return wait;
  }

  leave(i: number): void {
    this.active[i] = false;
    void this.check();
  }

  private async check(): Promise<void> {
    const arrived = this.waiting.length;
    const active = this.active.filter(Boolean).length;
    if (this.busy || arrived === 0 || arrived < active) return;
    this.busy = true;
    const values = this.values.map((v, i) => (this.active[i] ? v : null));
    this.values.fill(null);
    await this.onStep(this.step!, values);
    const waiting = this.waiting;
    this.waiting = [];
    this.busy = false;
    for (const w of waiting) w();
  }
}

function zipfTarget(): Float64Array {
  const p = Float64Array.from({ length: ZIPF.classes }, (_, k) => 1 / (k + 1));
  const sum = p.reduce((a, b) => a + b, 0);
  return p.map((v) => v / sum);
}

async function runKl(s: KlSettings): Promise<void> {
  const setting = s.target === "zipf" ? (`zipf-${s.optimizer}` as const) : ("digits-softmax" as const);
  const rates = LOSSES.map((l) => s.lr ?? TUNED[setting][l]);
  const total = s.target === "zipf" ? ZIPF.steps : 40;
  const g = (gate = makeGate(s.target === "zipf" ? s.speed : 1000));
  klQueue = { x: [], values: LOSSES.map(() => []) };
  scope.postMessage({
    type: "kl-setup",
    losses: [...LOSSES],
    rates,
    xLabel: s.target === "zipf" ? "optimiser step" : "epoch",
    total,
  });
  const lock = new Lockstep(LOSSES.length, async (step, values) => {
    klQueue!.x.push(step);
    values.forEach((v, i) => klQueue!.values[i]!.push(v));
    maybeFlush();
    await g.pass();
  });
  const run = async (loss: LossName, i: number): Promise<void> => {
    const opt = optimizer(s.optimizer, rates[i]!);
    let model: Model;
    if (s.target === "zipf") {
      const target = zipfTarget();
      model = categorical({ classes: ZIPF.classes });
      // As the loss comparison measures it: the KL before each step (fit measures each batch before
      // its update), then the KL after the last.
      const r = await fit(
        model,
        { y: target },
        {
          loss,
          optimizer: opt,
          epochs: total,
          batchSize: 1,
          shuffle: false,
          onEpoch: (e) => lock.arrive(i, e.epoch - 1, e.kl),
        },
      );
      if (r.stopReason === "completed") await lock.arrive(i, total, model.evaluate(null, target).kl);
    } else {
      const sp = split(digits(), s.seed);
      model = softmaxRegression({ inputs: 64, classes: 10, seed: s.seed });
      await lock.arrive(i, 0, model.evaluate(sp.testX, sp.testY).kl);
      await fit(
        model,
        { x: sp.trainX, y: sp.trainY },
        {
          loss,
          optimizer: opt,
          epochs: total,
          batchSize: 32,
          seed: s.seed,
          validation: { x: sp.testX, y: sp.testY },
          onEpoch: (e) => lock.arrive(i, e.epoch, e.valKl!),
        },
      );
    }
    model.dispose();
    opt.dispose();
    lock.leave(i);
  };
  await Promise.all(LOSSES.map(run));
}

let digitsCache: Digits | null = null;
const digits = (): Digits => (digitsCache ??= readDigits());

// ---- panel 2: the digits, and a digit drawn on the page ----

let predictor: { model: Model; scaler: Standardizer } | null = null;

async function runDigits(s: DigitsSettings): Promise<void> {
  const d = digits();
  const sp = split(d, s.seed);
  const g = (gate = makeGate(1000));
  scope.postMessage({ type: "digits-setup", heldOut: Array.from(sp.heldOut), trainRows: sp.trainY.length });
  const model =
    s.model === "mlp"
      ? mlp({ inputs: 64, hidden: [64], classes: 10, activation: "relu", seed: s.seed })
      : softmaxRegression({ inputs: 64, classes: 10, seed: s.seed });
  // Predictions use a copy of the model as it was after the last epoch: fit owns the model itself.
  const snapshot = (): void => {
    predictor?.model.dispose();
    predictor = { model: loadModel(model.toJSON()), scaler: sp.scaler };
  };
  snapshot();
  const start = model.evaluate(sp.testX, sp.testY);
  const train = model.evaluate(sp.trainX, sp.trainY);
  scope.postMessage({
    type: "digits-epoch",
    epoch: 0,
    loss: train.loss,
    accuracy: train.accuracy,
    valKl: start.kl,
    valAccuracy: start.accuracy,
  });
  await g.pass();
  const opt = optimizer(s.optimizer, s.lr);
  await fit(
    model,
    { x: sp.trainX, y: sp.trainY },
    {
      loss: "kl",
      optimizer: opt,
      epochs: s.epochs,
      batchSize: 32,
      seed: s.seed,
      validation: { x: sp.testX, y: sp.testY },
      onEpoch: async (e) => {
        snapshot();
        scope.postMessage({
          type: "digits-epoch",
          epoch: e.epoch,
          loss: e.loss,
          accuracy: e.accuracy,
          valKl: e.valKl!,
          valAccuracy: e.valAccuracy!,
        });
        if (e.epoch < s.epochs) await g.pass();
      },
    },
  );
  opt.dispose();
  model.dispose();
}

function predict(id: number, pixels: number[]): void {
  if (!predictor) return;
  const x = predictor.scaler.transform(Float64Array.from(pixels));
  scope.postMessage({ type: "prediction", id, probabilities: Array.from(predictor.model.predict(x)) });
}

// ---- panel 3: variational inference in 2-D ----

const covarianceOf = (l11: number, l21: number, l22: number): number[] => [
  l11 * l11,
  l11 * l21,
  l11 * l21,
  l21 * l21 + l22 * l22,
];

/** Frames of q every STRIDE steps while playing (each a fresh fitVI run of that many steps). */
const STRIDE = 5;

type Family = ViSettings["family"];
type Fit = Extract<FromWorker, { type: "vi-frame" }>["fits"][number];

/**
 * Both families are fitted side by side, the chosen one first: the page draws it, and the other
 * beside it for comparison.
 */
async function runVi(s: ViSettings): Promise<void> {
  const g = (gate = makeGate(60 * STRIDE));
  const rate = cosineSchedule({ initial: s.lr, steps: s.steps });
  const families: Family[] = s.family === "fullrank" ? ["fullrank", "meanfield"] : ["meanfield", "fullrank"];
  const send = (step: number, fits: Fit[]): void => {
    // Frames not sent yet are replaced by the newest, their objectives kept.
    const queued = viQueue?.fits;
    viQueue = {
      type: "vi-frame",
      step,
      fits: fits.map((f, i) => ({ ...f, objective: [...(queued?.[i]?.objective ?? []), ...f.objective] })),
    };
    maybeFlush();
  };
  const start = covarianceOf(START.scale, 0, START.scale);
  send(
    0,
    families.map((family) => ({ family, mean: [...START.mean], covariance: start, objective: [] })),
  );
  if (s.direction === "reverse") await reverse(s, families, g, rate, send);
  else await forward(s, families, g, rate, send);
}

type Send = (step: number, fits: Fit[]) => void;

/**
 * fitVI reports each step's ELBO but not q itself until it returns, so each frame is a fresh run of
 * `step` steps from the same seed: its draws depend on the seed and the step alone, and the rate on
 * the step, so the run of n steps is the first n steps of the longer run (the ELBO histories agree
 * bit for bit) and q after n steps is what the long run passes through.
 */
async function reverse(
  s: ViSettings,
  families: Family[],
  g: Gate,
  rate: (step: number) => number,
  send: Send,
): Promise<void> {
  const t =
    s.target === "gaussian"
      ? targets.gaussian(GAUSSIAN)
      : { dim: 2, logDensity: target2D(s.target).logDensity };
  let done = 0;
  while (done < s.steps) {
    await g.pass();
    const steps = Math.min(s.steps, done + (g.isPlaying ? STRIDE : 1));
    const fits: Fit[] = [];
    for (const family of families) {
      const q = await fitVI(t, {
        family,
        steps,
        samples: 8,
        optimizer: optimizer(s.optimizer, rate),
        seed: s.seed,
        init: START,
        evaluationDraws: 64,
        // The path-derivative gradient: its variance vanishes as q reaches the target, so q settles.
        stickingTheLanding: true,
      });
      if (q.stopReason !== "completed") {
        scope.postMessage({ type: "status", status: "done", detail: `${family}: ${q.stopReason}` });
        return;
      }
      fits.push({
        family,
        mean: Array.from(q.mean),
        covariance: Array.from(q.covariance),
        objective: Array.from(q.history.subarray(done, steps)),
      });
    }
    send(steps, fits);
    done = steps;
  }
}

/** One q = N(mu, L L^T) fitted by the forward KL; theta: mu1, mu2, ln l11, l21, ln l22. */
interface ForwardFit {
  family: Family;
  theta: number[];
  grad: number[];
  m: number[];
  v: number[];
  objective: number;
}

/**
 * KL(p || q) = -E_p[ln q] + const: each step follows the gradient of the mean ln q over 8 exact
 * draws from p (the ELBO needs draws from q; this needs draws from p, which these targets give), the
 * same draws for both families. L is lower-triangular with log-diagonal parameters; mean-field fixes
 * its corner to 0. The optimisers' float64 rules are the textbook ones, with PyTorch's defaults,
 * written out for five parameters.
 */
async function forward(
  s: ViSettings,
  families: Family[],
  g: Gate,
  rate: (step: number) => number,
  send: Send,
): Promise<void> {
  const target = target2D(s.target);
  const draws = normals(s.seed);
  const fits: ForwardFit[] = families.map((family) => ({
    family,
    theta: [START.mean[0]!, START.mean[1]!, Math.log(START.scale), 0, Math.log(START.scale)],
    grad: [0, 0, 0, 0, 0],
    m: [0, 0, 0, 0, 0],
    v: [0, 0, 0, 0, 0],
    objective: 0,
  }));
  const z: [number, number][] = [];
  for (let step = 1; step <= s.steps; step++) {
    await g.pass();
    z.length = 0;
    for (let k = 0; k < 8; k++) z.push(target.draw(draws.next(), draws.next(), draws.uniform()));
    for (const f of fits) {
      const { theta, grad, m, v } = f;
      grad.fill(0);
      f.objective = 0;
      const [mu1, mu2, la, b, lc] = theta as [number, number, number, number, number];
      const a = Math.exp(la);
      const c = Math.exp(lc);
      for (const [z1, z2] of z) {
        const w1 = (z1 - mu1) / a;
        const w2 = (z2 - mu2 - b * w1) / c;
        f.objective += (-la - lc - 0.5 * (w1 * w1 + w2 * w2) - Math.log(2 * Math.PI)) / 8;
        grad[0]! += (w1 / a - (b * w2) / (a * c)) / 8;
        grad[1]! += w2 / c / 8;
        grad[2]! += (-1 + w1 * w1 - (b * w1 * w2) / c) / 8;
        grad[3]! += f.family === "fullrank" ? (w1 * w2) / c / 8 : 0;
        grad[4]! += (-1 + w2 * w2) / 8;
      }
      // Ascent on E_p[ln q].
      const lr = rate(step - 1);
      for (let j = 0; j < 5; j++) {
        const gj = grad[j]!;
        if (s.optimizer === "sgd") theta[j]! += lr * gj;
        else if (s.optimizer === "adam") {
          m[j] = 0.9 * m[j]! + 0.1 * gj;
          v[j] = 0.999 * v[j]! + 0.001 * gj * gj;
          const mh = m[j]! / (1 - 0.9 ** step);
          const vh = v[j]! / (1 - 0.999 ** step);
          theta[j]! += (lr * mh) / (Math.sqrt(vh) + 1e-8);
        } else if (s.optimizer === "rmsprop") {
          v[j] = 0.99 * v[j]! + 0.01 * gj * gj;
          theta[j]! += (lr * gj) / (Math.sqrt(v[j]!) + 1e-8);
        } else {
          v[j] = v[j]! + gj * gj;
          theta[j]! += (lr * gj) / (Math.sqrt(v[j]!) + 1e-10);
        }
      }
    }
    send(
      step,
      fits.map((f) => ({
        family: f.family,
        mean: [f.theta[0]!, f.theta[1]!],
        covariance: covarianceOf(Math.exp(f.theta[2]!), f.theta[3]!, Math.exp(f.theta[4]!)),
        objective: [f.objective],
      })),
    );
  }
}

// ---- messages ----

async function start(message: Extract<ToWorker, { type: "start" }>): Promise<void> {
  try {
    if (message.panel === "kl") await runKl(message.settings);
    else if (message.panel === "digits") await runDigits(message.settings);
    else await runVi(message.settings);
    flush();
    scope.postMessage({ type: "status", status: "done" });
  } catch (e) {
    flush();
    scope.postMessage({ type: "error", message: e instanceof Error ? e.message : String(e) });
  }
}

scope.onmessage = ({ data }) => {
  switch (data.type) {
    case "start":
      void start(data);
      break;
    case "play":
      gate?.play();
      break;
    case "pause":
      gate?.pause();
      break;
    case "step":
      gate?.step();
      break;
    case "predict":
      predict(data.id, data.pixels);
      break;
  }
};
