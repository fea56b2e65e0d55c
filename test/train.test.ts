// fit(): the gradient of every model x loss x activation through the whole training pipeline
// (gather, forward, loss, backward, optimiser step), checked against central finite differences of
// a float64 JavaScript re-implementation; learning (a categorical target, a known softmax
// regression, a task only the MLP can learn); determinism; validation and early stopping; the
// divergence guard; callbacks, aborting and yielding to the event loop; options; and every error,
// each of which must leave the parameters bit-identical.
import { describe, expect, it } from "vitest";
import {
  adagrad,
  adam,
  categorical,
  cosineSchedule,
  createInstanceSync,
  fit,
  kl,
  mlp,
  rmsprop,
  sgd,
  softmaxRegression,
  type EpochStats,
  type FitOptions,
  type FitResult,
  type Klcore,
  type LossName,
  type Model,
} from "../dist/index.js";
import { rng } from "./helpers/fixtures.js";

const simd = createInstanceSync({ simd: true });
const scalar = createInstanceSync({ simd: false });

/** Copies of the model's parameter arrays. */
const snapshot = (m: Model): Float32Array[] => m.parameters().map((p) => p.array.slice());

/** The bit patterns of float32 arrays, for exact comparisons (-0, NaN payloads included). */
const bits = (arrays: Float32Array[]): number[][] =>
  arrays.map((a) => Array.from(new Uint32Array(a.slice().buffer)));

const allFinite = (arrays: Float32Array[]): boolean => arrays.every((a) => a.every(Number.isFinite));

/** History without the wall time, the one field that may differ between identical runs. */
const timeless = (h: EpochStats[]): Partial<EpochStats>[] =>
  h.map((s) => {
    const copy: Partial<EpochStats> = { ...s };
    delete copy.time;
    return copy;
  });

const uniform = (n: number, r: () => number, scale = 1): Float32Array =>
  Float32Array.from({ length: n }, () => scale * (2 * r() - 1));

/** Probability rows bounded away from 0, as float32 (each row sums to 1 within float32 rounding). */
function softRows(rows: number, classes: number, r: () => number): Float32Array {
  const out = new Float32Array(rows * classes);
  for (let i = 0; i < rows; i++) {
    const raw = Array.from({ length: classes }, () => 0.05 + r());
    const sum = raw.reduce((a, b) => a + b, 0);
    raw.forEach((v, j) => (out[i * classes + j] = v / sum));
  }
  return out;
}

// ---- a float64 reference of the models and losses ----------------------------------------------

type Kind = "categorical" | "softmax regression" | "mlp relu" | "mlp tanh";
const KINDS: Kind[] = ["categorical", "softmax regression", "mlp relu", "mlp tanh"];
const LOSSES: LossName[] = ["kl", "cross-entropy", "mse", "l1", "js"];
const INPUTS = 3;
const HIDDEN = 5;
const CLASSES = 4;
const ROWS = 7;

function build(k: Klcore, kind: Kind, seed: number): Model {
  if (kind === "categorical") return k.categorical({ classes: CLASSES });
  if (kind === "softmax regression") return k.softmaxRegression({ inputs: INPUTS, classes: CLASSES, seed });
  const activation = kind === "mlp relu" ? "relu" : "tanh";
  return k.mlp({ inputs: INPUTS, hidden: [HIDDEN], classes: CLASSES, activation, seed });
}

/** Adds U(-s, s) to every parameter, so biases and theta (which start at 0) are not 0. */
function jiggle(m: Model, seed: number, s: number): void {
  const r = rng(seed);
  for (const p of m.parameters()) {
    const a = p.array;
    for (let j = 0; j < a.length; j++) a[j] = a[j]! + s * (2 * r() - 1);
  }
}

/** float64 logits of `rows` rows, and the smallest |pre-activation| of a relu layer (its kink). */
function refLogits(
  kind: Kind,
  params: Float64Array[],
  x: Float32Array | null,
  rows: number,
): { z: Float64Array; nearestKink: number } {
  const z = new Float64Array(rows * CLASSES);
  let nearestKink = Infinity;
  if (kind === "categorical") {
    for (let r = 0; r < rows; r++) z.set(params[0]!, r * CLASSES);
    return { z, nearestKink };
  }
  const widths = kind === "softmax regression" ? [INPUTS, CLASSES] : [INPUTS, HIDDEN, CLASSES];
  let h = Float64Array.from(x!);
  for (let l = 0; l + 1 < widths.length; l++) {
    const ni = widths[l]!;
    const no = widths[l + 1]!;
    const w = params[2 * l]!;
    const b = params[2 * l + 1]!;
    const last = l + 2 === widths.length;
    const out = last ? z : new Float64Array(rows * no);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < no; j++) {
        let v = b[j]!;
        for (let p = 0; p < ni; p++) v += h[r * ni + p]! * w[p * no + j]!;
        if (!last && kind === "mlp relu") nearestKink = Math.min(nearestKink, Math.abs(v));
        out[r * no + j] = last ? v : kind === "mlp relu" ? Math.max(v, 0) : Math.tanh(v);
      }
    }
    h = out;
  }
  return { z, nearestKink };
}

/** softmax(z / T) of one row, in float64. */
function softmaxRow(z: ArrayLike<number>, temperature: number): number[] {
  const s = Array.from(z, (v) => v / temperature);
  const m = Math.max(...s);
  const e = s.map((v) => Math.exp(v - m));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** sum p ln(p / q), 0 ln 0 = 0. */
const klRow = (p: ArrayLike<number>, q: ArrayLike<number>): number =>
  Array.from(p).reduce((a, pi, j) => (pi > 0 ? a + pi * Math.log(pi / q[j]!) : a), 0);

/** One row's loss (src/probloss.ts's conventions: summed over the classes). */
function rowLoss(loss: LossName, t: ArrayLike<number>, q: number[]): number {
  switch (loss) {
    case "kl":
      return klRow(t, q);
    case "cross-entropy":
      return Array.from(t).reduce((a, p, j) => (p > 0 ? a - p * Math.log(q[j]!) : a), 0);
    case "mse":
      return q.reduce((a, v, j) => a + (v - t[j]!) ** 2, 0);
    case "l1":
      return q.reduce((a, v, j) => a + Math.abs(v - t[j]!), 0);
    case "js": {
      const m = q.map((v, j) => (v + t[j]!) / 2);
      return klRow(t, m) / 2 + klRow(q, m) / 2;
    }
  }
}

/** The mean loss over rows of targets t (rows x classes probabilities, one-hot for indices). */
function refLoss(
  loss: LossName,
  z: Float64Array,
  t: Float64Array,
  rows: number,
  temperature: number,
): number {
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const q = softmaxRow(z.subarray(r * CLASSES, (r + 1) * CLASSES), temperature);
    total += rowLoss(loss, t.subarray(r * CLASSES, (r + 1) * CLASSES), q);
  }
  return total / rows;
}

const oneHot = (labels: Int32Array, classes: number): Float64Array => {
  const t = new Float64Array(labels.length * classes);
  labels.forEach((c, r) => (t[r * classes + c] = 1));
  return t;
};

/**
 * One full-batch epoch of SGD with rate 1 moves every parameter by exactly -gradient (up to the
 * float32 rounding of the subtraction), so before - after is the gradient fit computed. It must
 * match central differences (h = 1e-6) of the float64 reference at the float32 parameters before
 * fit, to 1e-4 of the gradient's scale.
 */
async function checkGradient(
  k: Klcore,
  kind: Kind,
  loss: LossName,
  targets: "indices" | "probabilities",
  temperature: number,
  seed: number,
): Promise<void> {
  const m = build(k, kind, seed);
  // theta far from 0: a categorical q far from uniform, so l1's signs differ between classes
  // (equal mean signs in every class would make its gradient exactly 0).
  jiggle(m, seed + 100, kind === "categorical" ? 1 : 0.3);
  const r = rng(seed + 200);
  const x = kind === "categorical" ? null : uniform(ROWS * INPUTS, r);
  const labels = Int32Array.from({ length: ROWS }, () => Math.floor(r() * CLASSES));
  const soft = softRows(ROWS, CLASSES, r);
  const y = targets === "indices" ? labels : soft;
  const t = targets === "indices" ? oneHot(labels, CLASSES) : Float64Array.from(soft);
  const before = snapshot(m);
  const params = before.map((p) => Float64Array.from(p));
  const lossAt = (): number => refLoss(loss, refLogits(kind, params, x, ROWS).z, t, ROWS, temperature);

  const { z, nearestKink } = refLogits(kind, params, x, ROWS);
  // h moves a pre-activation by ~1e-6: far from every relu kink and every l1 kink |q - t| = 0.
  expect(nearestKink).toBeGreaterThan(1e-3);
  if (loss === "l1") {
    for (let row = 0; row < ROWS; row++) {
      const q = softmaxRow(z.subarray(row * CLASSES, (row + 1) * CLASSES), temperature);
      q.forEach((v, j) => expect(Math.abs(v - t[row * CLASSES + j]!)).toBeGreaterThan(1e-4));
    }
  }

  const result = await fit(m, x ? { x, y } : { y }, {
    optimizer: sgd({ learningRate: 1 }),
    batchSize: ROWS,
    shuffle: false,
    epochs: 1,
    loss,
    temperature,
  });
  expect(result.stopReason).toBe("completed");
  expect(result.history.length).toBe(1);
  const stats = result.history[0]!;
  expect(stats.batches).toBe(1);
  // The epoch's figures are the batch's, measured before the update: the reference's at `before`.
  const want = lossAt();
  expect(Math.abs(stats.loss - want)).toBeLessThan(1e-5 * Math.max(1, want));
  const wantKl = refLoss("kl", z, t, ROWS, temperature);
  expect(Math.abs(stats.kl - wantKl)).toBeLessThan(1e-5 * Math.max(1, wantKl));
  let correct = 0;
  for (let row = 0; row < ROWS; row++) {
    const zr = Array.from(z.subarray(row * CLASSES, (row + 1) * CLASSES));
    const tr = Array.from(t.subarray(row * CLASSES, (row + 1) * CLASSES));
    if (zr.indexOf(Math.max(...zr)) === tr.indexOf(Math.max(...tr))) correct++;
  }
  expect(stats.accuracy).toBe(correct / ROWS);

  const after = snapshot(m);
  const got = before.map((b, i) => Float64Array.from(b, (v, j) => v - after[i]![j]!));
  const h = 1e-6;
  const fd = params.map((p) =>
    Float64Array.from(p, (v, j) => {
      p[j] = v + h;
      const up = lossAt();
      p[j] = v - h;
      const down = lossAt();
      p[j] = v;
      return (up - down) / (2 * h);
    }),
  );
  const scale = Math.max(...fd.map((a) => Math.max(...Array.from(a, Math.abs))));
  expect(scale, `${kind} ${loss} ${targets} T=${temperature}`).toBeGreaterThan(1e-3); // a meaningful loss surface
  got.forEach((g, i) =>
    g.forEach((v, j) =>
      expect(Math.abs(v - fd[i]![j]!), `${kind} ${loss} param ${i}[${j}]`).toBeLessThan(1e-4 * scale),
    ),
  );
  m.dispose();
}

describe("the gradient through fit() against float64 finite differences", () => {
  for (const kind of KINDS) {
    for (const targets of ["indices", "probabilities"] as const) {
      it(`${kind}, every loss, ${targets === "indices" ? "class indices" : "soft targets"}`, async () => {
        for (const [b, k] of [simd, scalar].entries()) {
          for (const loss of LOSSES) await checkGradient(k, kind, loss, targets, 1, 10 * b + 3);
        }
      });
    }
  }

  it("temperature 2, every loss and model, soft targets and class indices", async () => {
    for (const kind of KINDS) {
      for (const loss of LOSSES) {
        await checkGradient(simd, kind, loss, "probabilities", 2, 41);
        await checkGradient(simd, kind, loss, "indices", 2, 42);
      }
    }
  });
});

// ---- learning ----------------------------------------------------------------------------------

/** A fixed softmax regression over 4 inputs and 3 classes: the truth the model must recover. */
const TRUE_W = [1.5, -1, 0.2, -0.5, 0.8, -1.2, 0.9, 0.3, -0.7, -1.1, 0.4, 0.6];
const TRUE_B = [0.3, -0.2, 0.1];

function trueProbabilities(x: Float32Array, inputs: number, classes: number): Float64Array {
  const rows = x.length / inputs;
  const p = new Float64Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    const z = TRUE_B.map((b, j) => {
      let v = b;
      for (let i = 0; i < inputs; i++) v += x[r * inputs + i]! * TRUE_W[i * classes + j]!;
      return v;
    });
    p.set(softmaxRow(z, 1), r * classes);
  }
  return p;
}

/** Column j minus column 0 of a rows x classes matrix: what softmax can identify of W and b. */
const contrasts = (m: ArrayLike<number>, rows: number, classes: number): number[] =>
  Array.from({ length: rows * (classes - 1) }, (_, i) => {
    const r = Math.floor(i / (classes - 1));
    const j = 1 + (i % (classes - 1));
    return m[r * classes + j]! - m[r * classes]!;
  });

describe("learning", () => {
  it("categorical learns a fixed 10-class distribution to KL < 1e-4", async () => {
    const raw = Array.from({ length: 10 }, (_, i) => (i + 1) ** 2);
    const total = raw.reduce((a, b) => a + b, 0);
    const target = Float64Array.from(raw, (v) => v / total);
    const m = categorical({ classes: 10 });
    const before = kl(target, Float64Array.from(m.predict()));
    expect(before).toBeGreaterThan(0.2); // uniform is far from the target
    const result = await fit(
      m,
      { y: [Array.from(target)] },
      { optimizer: adam({ learningRate: 0.1 }), epochs: 200 },
    );
    expect(result.stopReason).toBe("completed");
    expect(result.history.length).toBe(200);
    expect(kl(target, Float64Array.from(m.predict()))).toBeLessThan(1e-4);
    // history's kl is measured before each update: the second-to-last parameters, also close.
    expect(result.history.at(-1)!.kl).toBeLessThan(1e-4);
    expect(result.history.at(-1)!.kl).toBeGreaterThanOrEqual(0);
    expect(result.history[0]!.kl).toBeCloseTo(before, 5);
    m.dispose();
  });

  const INPUTS_SR = 4;
  const CLASSES_SR = 3;
  const r = rng(5);
  const N = 4000;
  const x = uniform(N * INPUTS_SR, r);
  const truth = trueProbabilities(x, INPUTS_SR, CLASSES_SR);
  const fresh = uniform(2000 * INPUTS_SR, r);
  const freshTruth = trueProbabilities(fresh, INPUTS_SR, CLASSES_SR);
  const trueContrasts = [...contrasts(TRUE_W, INPUTS_SR, CLASSES_SR), ...contrasts(TRUE_B, 1, CLASSES_SR)];

  it("softmax regression recovers a known model from sampled class indices", async () => {
    const labels = Int32Array.from({ length: N }, (_, i) => {
      let u = r();
      let c = 0;
      while (c < CLASSES_SR - 1 && u >= truth[i * CLASSES_SR + c]!) u -= truth[i * CLASSES_SR + c++]!;
      return c;
    });
    const m = softmaxRegression({ inputs: INPUTS_SR, classes: CLASSES_SR, seed: 1 });
    const klFresh = (): number =>
      kl(freshTruth, Float64Array.from(m.predict(fresh)), { classes: CLASSES_SR });
    expect(klFresh()).toBeGreaterThan(0.1);
    const result = await fit(
      m,
      { x, y: labels },
      {
        optimizer: adam({ learningRate: cosineSchedule({ initial: 0.05, steps: 40 * 40 }) }),
        batchSize: 100,
        epochs: 40,
      },
    );
    expect(result.history.length).toBe(40);
    // The maximum-likelihood fit of d = (4 + 1) x (3 - 1) = 10 identifiable parameters from N rows
    // is off the truth by KL ~ d / (2N) = 1.25e-3 on average (2N KL ~ chi-square with d degrees of
    // freedom); 5e-3 is 2N KL = 40, beyond the chi-square's 1e-5 tail.
    expect(klFresh()).toBeLessThan(5e-3);
    // The parameters themselves, up to softmax's shift per row: each contrast's standard error is
    // ~1 / sqrt(N var(x) p (1 - p)) ~ 0.06 here, so 0.25 is about 4 of them.
    const [w, b] = snapshot(m);
    const got = [...contrasts(w!, INPUTS_SR, CLASSES_SR), ...contrasts(b!, 1, CLASSES_SR)];
    got.forEach((v, i) => expect(Math.abs(v - trueContrasts[i]!), `contrast ${i}`).toBeLessThan(0.25));
    m.dispose();
  });

  it("softmax regression fitted to the true probabilities as soft targets: KL ~ 0", async () => {
    const m = softmaxRegression({ inputs: INPUTS_SR, classes: CLASSES_SR, seed: 1 });
    const result = await fit(
      m,
      { x, y: Float32Array.from(truth) },
      {
        optimizer: adam({ learningRate: cosineSchedule({ initial: 0.05, steps: 20 * 60 }) }),
        batchSize: 200,
        epochs: 60,
      },
    );
    expect(result.history.at(-1)!.kl).toBeLessThan(1e-6);
    expect(kl(freshTruth, Float64Array.from(m.predict(fresh)), { classes: CLASSES_SR })).toBeLessThan(1e-6);
    const [w, b] = snapshot(m);
    const got = [...contrasts(w!, INPUTS_SR, CLASSES_SR), ...contrasts(b!, 1, CLASSES_SR)];
    got.forEach((v, i) => expect(Math.abs(v - trueContrasts[i]!), `contrast ${i}`).toBeLessThan(1e-2));
    m.dispose();
  });

  it("an MLP learns XOR quadrants, which softmax regression cannot", async () => {
    const quadrants = (n: number, seed: number): { x: Float32Array; y: Int32Array } => {
      const q = rng(seed);
      const xs: number[] = [];
      const ys: number[] = [];
      while (ys.length < n) {
        const a = 2 * q() - 1;
        const b = 2 * q() - 1;
        if (Math.abs(a) < 0.1 || Math.abs(b) < 0.1) continue; // a margin around the axes
        xs.push(a, b);
        ys.push(a * b > 0 ? 1 : 0);
      }
      return { x: Float32Array.from(xs), y: Int32Array.from(ys) };
    };
    const train = quadrants(400, 9);
    const test = quadrants(400, 10);
    const options: FitOptions = { optimizer: "adam", learningRate: 0.03, epochs: 60, batchSize: 32, seed: 1 };
    const net = mlp({ inputs: 2, hidden: [16], classes: 2, activation: "tanh", seed: 2 });
    const linear = softmaxRegression({ inputs: 2, classes: 2, seed: 2 });
    await fit(net, train, options);
    await fit(linear, train, options);
    expect(net.evaluate(test.x, test.y).accuracy).toBeGreaterThanOrEqual(0.95);
    expect(net.evaluate(train.x, train.y).accuracy).toBeGreaterThanOrEqual(0.95);
    expect(linear.evaluate(test.x, test.y).accuracy).toBeLessThanOrEqual(0.75);
    expect(linear.evaluate(train.x, train.y).accuracy).toBeLessThanOrEqual(0.75);
    net.dispose();
    linear.dispose();
  });
});

// ---- a small dataset for the behaviour of fit ----------------------------------------------------

function dataset(rows: number, seed: number, inputs = 3, classes = 3): { x: Float32Array; y: Int32Array } {
  const r = rng(seed);
  const x = uniform(rows * inputs, r);
  const y = Int32Array.from({ length: rows }, (_, i) => {
    // A learnable rule with some noise.
    const s = x[i * inputs]! + 0.5 * x[i * inputs + 1]!;
    return r() < 0.1 ? Math.floor(r() * classes) : s < -0.3 ? 0 : s < 0.3 ? 1 : 2;
  });
  return { x, y };
}

const net = (seed = 5): Model => mlp({ inputs: 3, hidden: [6], classes: 3, activation: "tanh", seed });

describe("determinism", () => {
  const d = dataset(40, 1);
  const options: FitOptions = {
    optimizer: "adam",
    learningRate: 0.05,
    batchSize: 8,
    epochs: 3,
    seed: 7,
    validation: 0.25,
  };

  it("same model seed, fit seed and data: bit-identical history and parameters", async () => {
    const a = net();
    const b = net();
    const ra = await fit(a, d, options);
    const rb = await fit(b, d, options);
    expect(ra.history.length).toBe(3);
    expect(timeless(ra.history)).toEqual(timeless(rb.history));
    expect(bits(snapshot(a))).toEqual(bits(snapshot(b)));
    expect(ra.stopReason).toBe(rb.stopReason);
    a.dispose();
    b.dispose();
  });

  it("another fit seed, or no shuffling, gives another history", async () => {
    const base = net();
    const other = net();
    const unshuffled = net();
    const r0 = await fit(base, d, options);
    const r1 = await fit(other, d, { ...options, seed: 8 });
    const r2 = await fit(unshuffled, d, { ...options, shuffle: false });
    expect(r1.history[0]!.loss).not.toBe(r0.history[0]!.loss);
    expect(timeless(r1.history)).not.toEqual(timeless(r0.history));
    expect(timeless(r2.history)).not.toEqual(timeless(r0.history));
    expect(bits(snapshot(other))).not.toEqual(bits(snapshot(base)));
    expect(bits(snapshot(unshuffled))).not.toEqual(bits(snapshot(base)));
    [base, other, unshuffled].forEach((m) => m.dispose());
  });

  it("the caller's x and y are never written", async () => {
    const x = d.x.slice();
    const y = d.y.slice();
    const soft = softRows(40, 3, rng(3));
    const softCopy = soft.slice();
    const m = net();
    await fit(m, { x, y }, options);
    await fit(m, { x, y: soft }, { ...options, loss: "js" });
    expect(x).toEqual(d.x);
    expect(y).toEqual(d.y);
    expect(bits([soft])).toEqual(bits([softCopy]));
    m.dispose();
  });
});

describe("validation", () => {
  const d = dataset(40, 2);
  const inputs = 3;

  it("validationSplit 'last' holds out the last rows; after each epoch they are measured as evaluate() does", async () => {
    const m = net();
    const seen: number[] = [];
    const options: FitOptions = {
      optimizer: "adam",
      learningRate: 0.05,
      batchSize: 8,
      epochs: 4,
      seed: 3,
      loss: "mse",
      temperature: 1.5,
      validation: 0.25,
      validationSplit: "last",
      onBatch: (info) => void seen.push(info.rows),
    };
    const result = await fit(m, d, options);
    // 30 training rows in batches of 8: 8, 8, 8, 6 per epoch.
    expect(seen).toEqual(Array.from({ length: 4 }, () => [8, 8, 8, 6]).flat());
    expect(result.history.length).toBe(4);
    for (const s of result.history) {
      expect(s.valLoss).toBeTypeOf("number");
      expect(s.valKl).toBeTypeOf("number");
      expect(s.valAccuracy).toBeTypeOf("number");
      expect(s.valLoss).not.toBe(s.valKl); // mse, not KL
    }
    const last = result.history.at(-1)!;
    const heldX = d.x.subarray(30 * inputs);
    const heldY = d.y.subarray(30);
    const e = m.evaluate(heldX, heldY, { loss: "mse", temperature: 1.5 });
    expect(e.rows).toBe(10);
    expect(last.valLoss).toBe(e.loss);
    expect(last.valKl).toBe(e.kl);
    expect(last.valAccuracy).toBe(e.accuracy);

    // Training on the first 30 rows alone is the same training, bit for bit.
    const alone = net();
    const rest: FitOptions = {
      ...options,
      validation: undefined,
      validationSplit: undefined,
      onBatch: undefined,
    };
    const r2 = await fit(alone, { x: d.x.subarray(0, 30 * inputs), y: d.y.subarray(0, 30) }, rest);
    expect(bits(snapshot(alone))).toEqual(bits(snapshot(m)));
    r2.history.forEach((s, i) => {
      expect(s.loss).toBe(result.history[i]!.loss);
      expect(s.kl).toBe(result.history[i]!.kl);
      expect(s.accuracy).toBe(result.history[i]!.accuracy);
      expect(s.valLoss).toBeNull();
    });
    m.dispose();
    alone.dispose();
  });

  it("common fractions hold out round(fraction x rows) rows", async () => {
    for (const [fraction, held] of [
      [0.1, 4],
      [0.2, 8],
      [0.25, 10],
      [0.5, 20],
      [0.75, 30],
    ] as const) {
      const m = net();
      let rows = 0;
      await fit(m, d, {
        epochs: 1,
        batchSize: 64,
        validation: fraction,
        onBatch: (i) => void (rows += i.rows),
      });
      expect(rows, `validation ${fraction}`).toBe(40 - held);
      m.dispose();
    }
  });

  it("a fraction is stratified by default: sorted data keeps every class in proportion, seeded", async () => {
    // 3 classes of 50, 30 and 20 rows, sorted by class (as iris is): 'last' would hold out one.
    const rows = 100;
    const r = rng(21);
    const x = Float32Array.from({ length: rows * inputs }, () => r() * 2 - 1);
    const y = Int32Array.from({ length: rows }, (_, i) => (i < 50 ? 0 : i < 80 ? 1 : 2));
    const run = async (o: FitOptions): Promise<{ result: FitResult; m: Model }> => {
      const m = softmaxRegression({ inputs, classes: 3, seed: 2 });
      return { result: await fit(m, { x, y }, { epochs: 2, batchSize: 16, validation: 0.2, ...o }), m };
    };
    const { result, m } = await run({ seed: 5 });
    const held = result.heldOut!;
    expect(held.length).toBe(20);
    expect(Array.from(held)).toEqual(Array.from(held).sort((a, b) => a - b));
    const perClass = [0, 0, 0];
    for (const i of held) perClass[y[i]!]!++;
    expect(perClass).toEqual([10, 6, 4]);
    // The held-out rows are those measured, and the others those trained on, bit for bit.
    const hx = new Float32Array(20 * inputs);
    held.forEach((row, i) => hx.set(x.subarray(row * inputs, (row + 1) * inputs), i * inputs));
    const e = m.evaluate(
      hx,
      Int32Array.from(held, (i) => y[i]!),
    );
    expect(result.history.at(-1)!.valLoss).toBe(e.loss);
    const rest = Int32Array.from({ length: rows }, (_, i) => i).filter((i) => !held.includes(i));
    const tx = new Float32Array(80 * inputs);
    rest.forEach((row, i) => tx.set(x.subarray(row * inputs, (row + 1) * inputs), i * inputs));
    const alone = softmaxRegression({ inputs, classes: 3, seed: 2 });
    await fit(
      alone,
      { x: tx, y: Int32Array.from(rest, (i) => y[i]!) },
      { epochs: 2, batchSize: 16, seed: 5 },
    );
    expect(bits(snapshot(alone))).toEqual(bits(snapshot(m)));
    // The same seed, the same split; another seed, another; 'random' and 'last' differ.
    expect(Array.from((await run({ seed: 5 })).result.heldOut!)).toEqual(Array.from(held));
    expect(Array.from((await run({ seed: 6 })).result.heldOut!)).not.toEqual(Array.from(held));
    const random = (await run({ seed: 5, validationSplit: "random" })).result.heldOut!;
    expect(random.length).toBe(20);
    expect(Array.from(random)).not.toEqual(Array.from(held));
    expect(Array.from((await run({ validationSplit: "last" })).result.heldOut!)).toEqual(
      Array.from({ length: 20 }, (_, i) => 80 + i),
    );
    await expect(run({ validationSplit: "first" as never })).rejects.toThrow(/validationSplit/);
  });

  it("class indices in a Float32Array or Float64Array (as TF.js keeps labels) train as an Int32Array does", async () => {
    const fitWith = async (y: Int32Array | Float32Array | Float64Array): Promise<number[][]> => {
      const m = net();
      await fit(m, { x: d.x, y }, { epochs: 2, batchSize: 8, seed: 1 });
      const b = bits(snapshot(m));
      m.dispose();
      return b;
    };
    const want = await fitWith(d.y);
    expect(await fitWith(Float32Array.from(d.y))).toEqual(want);
    expect(await fitWith(Float64Array.from(d.y))).toEqual(want);
  });

  it("a fraction of soft targets: the held-out probability rows are measured", async () => {
    const soft = softRows(40, 3, rng(8));
    const m = net();
    const result = await fit(
      m,
      { x: d.x, y: soft },
      { epochs: 2, batchSize: 10, loss: "js", validation: 0.25, validationSplit: "last" },
    );
    const e = m.evaluate(d.x.subarray(30 * inputs), soft.subarray(30 * 3), { loss: "js" });
    expect(e.rows).toBe(10);
    expect(result.history[1]!.valLoss).toBe(e.loss);
    expect(result.history[1]!.valKl).toBe(e.kl);
    expect(result.history[1]!.valAccuracy).toBe(e.accuracy);
    m.dispose();
  });

  // floor(100 x (1 - 0.9)) = floor(9.999999999999998) = 9 training rows: 91 rows are held out.
  it("validation 0.9 of 100 rows holds out 90 of them", async () => {
    const m = softmaxRegression({ inputs: 2, classes: 2 });
    let rows = 0;
    const data = { x: new Float32Array(200), y: new Int32Array(100) };
    await fit(m, data, { epochs: 1, batchSize: 1000, validation: 0.9, onBatch: (i) => void (rows = i.rows) });
    expect(rows).toBe(10);
  });

  it("held-out data as { x, y } is measured, and does not change training", async () => {
    const v = dataset(15, 3);
    const m = net();
    const plain = net();
    const options: FitOptions = { optimizer: "sgd", learningRate: 0.1, batchSize: 10, epochs: 3, seed: 4 };
    const result = await fit(m, d, { ...options, validation: v });
    const without = await fit(plain, d, options);
    expect(bits(snapshot(m))).toEqual(bits(snapshot(plain)));
    expect(result.history.map((s) => s.loss)).toEqual(without.history.map((s) => s.loss));
    const e = m.evaluate(v.x, v.y);
    const last = result.history.at(-1)!;
    expect(last.valLoss).toBe(e.loss);
    expect(last.valKl).toBe(e.kl); // kl: the loss and the KL coincide
    expect(last.valLoss).toBe(last.valKl);
    expect(last.valAccuracy).toBe(e.accuracy);
    expect(
      without.history.every((s) => s.valLoss === null && s.valKl === null && s.valAccuracy === null),
    ).toBe(true);
    m.dispose();
    plain.dispose();
  });
});

describe("early stopping", () => {
  // A categorical model moves from uniform toward P; the validation target V lies between them, so
  // the validation loss first falls, then rises (best at epoch 2 with this rate).
  const P = [[0.7, 0.2, 0.1]];
  const V = [[0.45, 0.3, 0.25]];
  const options = (extra: FitOptions): FitOptions => ({
    optimizer: sgd({ learningRate: 0.5 }),
    epochs: 50,
    validation: { y: V },
    ...extra,
  });

  it("patience, restoreBest (the default): the best epoch's parameters are put back", async () => {
    const m = categorical({ classes: 3 });
    const result = await fit(m, { y: P }, options({ earlyStopping: { patience: 2 } }));
    const losses = result.history.map((s) => s.valLoss!);
    expect(result.bestEpoch).toBe(2);
    expect(losses.length).toBe(2 + 2 + 1); // the best, then patience + 1 epochs without improvement
    expect(losses[1]).toBeLessThan(losses[0]!);
    expect(losses[2]).toBeGreaterThan(losses[1]!);
    expect(result.stoppedEarly).toBe(true);
    expect(result.stopReason).toBe("early-stopping");
    expect(result.diverged).toBe(false);
    expect(m.evaluate(null, V).loss).toBe(losses[result.bestEpoch! - 1]);
    expect(m.evaluate(null, V).loss).not.toBe(losses.at(-1));
    m.dispose();
  });

  it("restoreBest false keeps the last parameters; patience 0 stops at the first worse epoch", async () => {
    const m = categorical({ classes: 3 });
    const result = await fit(m, { y: P }, options({ earlyStopping: { restoreBest: false } }));
    expect(result.history.length).toBe(3);
    expect(result.bestEpoch).toBe(2);
    expect(result.stopReason).toBe("early-stopping");
    expect(m.evaluate(null, V).loss).toBe(result.history[2]!.valLoss);
    m.dispose();
  });

  it("minDelta: smaller improvements do not count", async () => {
    const m = categorical({ classes: 3 });
    const result = await fit(m, { y: P }, options({ earlyStopping: { patience: 2, minDelta: 0.01 } }));
    // Epoch 2 improves by ~0.0065 < 0.01: epoch 1 stays the best.
    expect(result.history[0]!.valLoss! - result.history[1]!.valLoss!).toBeLessThan(0.01);
    expect(result.bestEpoch).toBe(1);
    expect(result.history.length).toBe(4);
    expect(m.evaluate(null, V).loss).toBe(result.history[0]!.valLoss);
    m.dispose();
  });

  it("without validation data the training loss is monitored", async () => {
    const m = categorical({ classes: 3 });
    // The training loss falls every epoch, but never by 1: only the first epoch counts.
    const result = await fit(
      m,
      { y: P },
      { optimizer: sgd({ learningRate: 0.5 }), epochs: 50, earlyStopping: { patience: 1, minDelta: 1 } },
    );
    const losses = result.history.map((s) => s.loss);
    expect(losses.length).toBe(3);
    expect(losses[1]).toBeLessThan(losses[0]!);
    expect(result.bestEpoch).toBe(1);
    expect(result.stopReason).toBe("early-stopping");
    expect(result.history.every((s) => s.valLoss === null)).toBe(true);
    m.dispose();
  });

  it("training that ends before patience runs out still restores the best epoch", async () => {
    const m = categorical({ classes: 3 });
    const result = await fit(m, { y: P }, options({ epochs: 4, earlyStopping: { patience: 10 } }));
    expect(result.stopReason).toBe("completed");
    expect(result.stoppedEarly).toBe(false);
    expect(result.bestEpoch).toBe(2);
    expect(result.history.length).toBe(4);
    // restoreBest (the default) leaves bestEpoch's parameters however training ends.
    expect(m.evaluate(null, V).loss).toBe(result.history[1]!.valLoss);
    expect(m.evaluate(null, V).loss).not.toBe(result.history[3]!.valLoss);
    m.dispose();
  });

  it("restoreBest: false keeps the last epoch's parameters", async () => {
    const m = categorical({ classes: 3 });
    const result = await fit(
      m,
      { y: P },
      options({ epochs: 4, earlyStopping: { patience: 10, restoreBest: false } }),
    );
    expect(result.bestEpoch).toBe(2);
    expect(m.evaluate(null, V).loss).toBe(result.history[3]!.valLoss);
    m.dispose();
  });
});

describe("the divergence guard", () => {
  // Inputs of 1e5 and a rate of 1e30: the first update is finite (parameters ~1e35) but the next
  // batch's logits (~1e40) overflow float32, so its loss is NaN.
  const x = Float32Array.from({ length: 30 }, (_, i) => ((i % 7) - 3) * 1e5);
  const y = Int32Array.from({ length: 10 }, (_, i) => i % 3);
  const model = (): Model => softmaxRegression({ inputs: 3, classes: 3, seed: 1 });

  /** Parameters before fit, then after every batch's update (what the next batch starts from). */
  const recorder = (m: Model): { snaps: Float32Array[][]; onBatch: () => void } => {
    const snaps = [snapshot(m)];
    return { snaps, onBatch: () => void snaps.push(snapshot(m)) };
  };

  it("a non-finite validation loss is reported, not taken for divergence of finite parameters", async () => {
    const m = model();
    const small = x.map((v) => v * 1e-5);
    // Finite float32 inputs near the top of the range: the held-out logits overflow.
    const huge = { x: Float32Array.from({ length: 6 }, (_, i) => (i % 2 ? 3e38 : -3e38)), y: [0, 1] };
    const result = await fit(m, { x: small, y }, { optimizer: "sgd", epochs: 2, validation: huge });
    expect(result.diverged).toBe(false);
    expect(result.stopReason).toBe("completed");
    expect(result.history.length).toBe(2);
    expect(result.history.every((e) => e.complete && Number.isFinite(e.loss))).toBe(true);
    expect(Number.isFinite(result.history[1]!.valLoss)).toBe(false);
    expect(allFinite(snapshot(m))).toBe(true);
    m.dispose();
  });

  it("a non-finite loss stops training and restores the parameters that gave the last finite loss", async () => {
    const m = model();
    const { snaps, onBatch } = recorder(m);
    const optimizer = sgd({ learningRate: 1e30 });
    const result = await fit(m, { x, y }, { optimizer, batchSize: 2, shuffle: false, epochs: 3, onBatch });
    expect(result.diverged).toBe(true);
    expect(result.stopReason).toBe("diverged");
    expect(result.stoppedEarly).toBe(false);
    expect(result.divergedAt).toEqual({ epoch: 1, batch: 2, loss: NaN, reason: "non-finite-loss" });
    expect(result.history.length).toBe(1);
    expect(result.history[0]!.batches).toBe(1);
    expect(result.history[0]!.complete).toBe(false);
    expect(Number.isFinite(result.history[0]!.loss)).toBe(true);
    expect(snaps.length).toBe(2); // onBatch ran for batch 1 only
    const now = snapshot(m);
    expect(allFinite(now)).toBe(true);
    // The parameters batch 2 started from are finite but give a NaN loss (~1e35 here): the ones
    // restored are those before batch 1, whose loss was the last finite one.
    expect(allFinite(snaps[1]!)).toBe(true);
    expect(Math.max(...Array.from(snaps[1]![0]!, Math.abs))).toBeGreaterThan(1e30);
    expect(bits(now)).toEqual(bits(snaps[0]!));
    expect(optimizer.stepCount).toBe(0); // reset: its state held the diverging step
    // Not left busy: it trains again.
    const again = await fit(m, { x: x.map((v) => v * 1e-5), y }, { optimizer: "sgd", epochs: 1 });
    expect(again.stopReason).toBe("completed");
    m.dispose();
  });

  it("an update that makes a parameter non-finite is undone: the parameters before that batch", async () => {
    const m = model();
    const { snaps, onBatch } = recorder(m);
    // Inputs of 1e3 keep the first loss finite; a step of ~1e36 x 1e3 overflows float32.
    const small = x.map((v) => v * 1e-2);
    const result = await fit(
      m,
      { x: small, y },
      { optimizer: sgd({ learningRate: 1e36 }), batchSize: 2, shuffle: false, epochs: 3, onBatch },
    );
    expect(result.stopReason).toBe("diverged");
    expect(result.divergedAt!.epoch).toBe(1);
    expect(result.divergedAt!.batch).toBe(1);
    expect(Number.isFinite(result.divergedAt!.loss)).toBe(true);
    expect(result.history).toEqual([]); // no batch completed
    expect(snaps.length).toBe(1);
    expect(bits(snapshot(m))).toEqual(bits(snaps[0]!));
    m.dispose();
  });

  // An optimiser that steps as SGD does, then writes `value` into params[array][index] at step `at`.
  const sabotage = (at: number, value: number, array = 0, index = 0) => {
    const inner = sgd({ learningRate: 0.01 });
    return {
      get stepCount() {
        return inner.stepCount;
      },
      get learningRate() {
        return inner.learningRate;
      },
      step(params: Parameters<typeof inner.step>[0], grads: Parameters<typeof inner.step>[1]) {
        inner.step(params, grads);
        if (inner.stepCount === at) params[array]!.array[index] = value;
      },
      reset: () => inner.reset(),
      dispose: () => inner.dispose(),
    };
  };

  it("a non-finite value anywhere in the parameters after a step is found, in both builds", async () => {
    for (const k of [simd, scalar]) {
      // 14 weights (8 in the SIMD build's 8-wide loop, 4 in its 4-wide one, 2 in the scalar tail)
      // and 2 biases.
      const m = k.softmaxRegression({ inputs: 7, classes: 2, seed: 2 });
      const x = Float32Array.from({ length: 7 * 6 }, (_, i) => (i % 5) * 0.1);
      const data = { x, y: Int32Array.from([0, 1, 1, 0, 1, 0]) };
      for (const [array, n] of [
        [0, 14],
        [1, 2],
      ] as const) {
        for (let index = 0; index < n; index++) {
          for (const bad of [NaN, Infinity, -Infinity]) {
            const before = snapshot(m);
            const result = await fit(m, data, { optimizer: sabotage(2, bad, array, index), batchSize: 2 });
            expect(result.divergedAt).toMatchObject({ epoch: 1, batch: 2, reason: "non-finite-update" });
            expect(allFinite(snapshot(m))).toBe(true);
            expect(bits(snapshot(m))).not.toEqual(bits(before));
          }
        }
      }
      m.dispose();
    }
  });

  // Batches 3 to 8, over two epochs: the guard's copies of the parameters alternate between
  // steps, so both parities and an epoch boundary are covered.
  for (const at of [3, 4, 5, 6, 8]) {
    it(`a non-finite update at step ${at} puts back the parameters before it`, async () => {
      const m = model();
      const { snaps, onBatch } = recorder(m);
      const small = { x: x.map((v) => v * 1e-5), y };
      const result = await fit(m, small, {
        optimizer: sabotage(at, NaN),
        batchSize: 2,
        shuffle: false,
        epochs: 2,
        onBatch,
      });
      expect(result.divergedAt).toMatchObject({ batch: ((at - 1) % 5) + 1, reason: "non-finite-update" });
      expect(snaps.length).toBe(at);
      expect(bits(snapshot(m))).toEqual(bits(snaps[at - 1]!));
      m.dispose();
    });

    it(`finite parameters whose next batch diverges (set at step ${at}): those before step ${at}`, async () => {
      const m = model();
      const { snaps, onBatch } = recorder(m);
      const small = { x: x.map((v) => v * 1e-5), y };
      const result = await fit(m, small, {
        optimizer: sabotage(at, 3e38),
        batchSize: 2,
        shuffle: false,
        epochs: 2,
        onBatch,
      });
      expect(result.divergedAt!.batch).toBe((at % 5) + 1);
      expect(["non-finite-loss", "logit-overflow"]).toContain(result.divergedAt!.reason);
      // onBatch ran after step `at` too: its parameters are finite, and not those restored.
      expect(snaps.length).toBe(at + 1);
      expect(allFinite(snaps[at]!)).toBe(true);
      expect(bits(snapshot(m))).toEqual(bits(snaps[at - 1]!));
      m.dispose();
    });
  }

  it("onDivergence 'throw' rejects with a RangeError; the parameters are restored and finite", async () => {
    const m = model();
    const { snaps, onBatch } = recorder(m);
    const error = await fit(
      m,
      { x, y },
      {
        optimizer: sgd({ learningRate: 1e30 }),
        batchSize: 2,
        shuffle: false,
        onBatch,
        onDivergence: "throw",
      },
    ).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toMatch(/^training diverged at epoch 1, batch 2: the loss is NaN/);
    expect(allFinite(snapshot(m))).toBe(true);
    expect(bits(snapshot(m))).toEqual(bits(snaps[0]!));
    m.dispose();
  });
});

describe("the KL in the history", () => {
  it("is never negative: a categorical model at float32's floor on a Zipf target reports 0, as kl() does", async () => {
    const C = 1000;
    const t = Float32Array.from({ length: C }, (_, i) => 1 / (i + 1));
    const mass = t.reduce((a, b) => a + b, 0);
    t.forEach((v, i) => (t[i] = v / mass));
    for (const k of [simd, scalar]) {
      const m = k.categorical({ classes: C });
      const r = await fit(m, { y: t }, { optimizer: adam({ learningRate: 0.1 }), epochs: 400 });
      expect(r.history.every((h) => h.kl >= 0 && h.loss >= 0)).toBe(true);
      // It reached the floor, where rounding used to show as a negative KL.
      expect(Math.min(...r.history.map((h) => h.kl))).toBeLessThan(1e-6);
      expect(m.evaluate(null, t).kl).toBeGreaterThanOrEqual(0);
      m.dispose();
    }
  });
});

describe("the divergence guard: explosions without NaN", () => {
  // 200 rows of 8 inputs in [-1, 1], 3 classes from two of them: a learnable task with noise.
  const r = rng(77);
  const x = Float32Array.from({ length: 200 * 8 }, () => r() * 2 - 1);
  const y = Int32Array.from({ length: 200 }, (_, i) =>
    r() < 0.1 ? Math.floor(r() * 3) : (x[i * 8]! > 0 ? 1 : 0) + (x[i * 8 + 1]! > 0.5 ? 1 : 0),
  );
  const make = (kind: "softmax regression" | "mlp"): Model =>
    kind === "mlp"
      ? mlp({ inputs: 8, hidden: [16], classes: 3, seed: 1 })
      : softmaxRegression({ inputs: 8, classes: 3, seed: 1 });

  it("SGD at 1e6 on every loss and model: diverged, named, the parameters before the runaway step", async () => {
    for (const loss of LOSSES)
      for (const kind of ["softmax regression", "mlp"] as const) {
        const m = make(kind);
        const snaps = [snapshot(m)];
        const result = await fit(
          m,
          { x, y },
          {
            loss,
            optimizer: sgd({ learningRate: 1e6 }),
            batchSize: 16,
            shuffle: false,
            epochs: 20,
            onBatch: () => void snaps.push(snapshot(m)),
          },
        );
        expect(result.diverged, `${loss} ${kind}`).toBe(true);
        const at = result.divergedAt!;
        expect(["exploding-kl", "logit-overflow"]).toContain(at.reason);
        expect(Number.isFinite(at.loss)).toBe(true);
        // Batch b's parameters came from batch b - 1's update: both are undone.
        expect(snaps.length).toBe(at.batch);
        expect(bits(snapshot(m))).toEqual(bits(snaps[at.batch - 2]!));
        expect(result.history.at(-1)!.complete).toBe(false);
        m.dispose();
      }
  });

  it("the KL rule and the logit rule each fire on their own; 'throw' names what was seen", async () => {
    const run = (kind: "softmax regression" | "mlp", loss: LossName): Promise<unknown> => {
      const m = make(kind);
      return fit(
        m,
        { x, y },
        { loss, optimizer: sgd({ learningRate: 1e6 }), batchSize: 16, onDivergence: "throw" },
      ).then(
        () => null,
        (e: unknown) => e,
      );
    };
    const kl = await run("softmax regression", "kl");
    expect(kl).toBeInstanceOf(RangeError);
    expect((kl as Error).message).toMatch(/^training diverged at epoch 1, batch \d+: the KL exploded/);
    const logits = await run("mlp", "mse");
    expect((logits as Error).message).toMatch(/a logit reached 2\^24 in magnitude/);
  });

  it("no false alarm: every loss and model under SGD 0.01-10 and Adam 1e-3-0.1 with label noise", async () => {
    const rates: [string, number][] = [
      ["sgd", 0.01],
      ["sgd", 1],
      ["sgd", 10],
      ["adam", 0.001],
      ["adam", 0.1],
    ];
    for (const loss of LOSSES)
      for (const kind of ["softmax regression", "mlp"] as const)
        for (const [name, lr] of rates) {
          const m = make(kind);
          const optimizer = name === "sgd" ? sgd({ learningRate: lr }) : adam({ learningRate: lr });
          const result = await fit(m, { x, y }, { loss, optimizer, batchSize: 16, epochs: 30, seed: 3 });
          expect(result.diverged, `${loss} ${kind} ${name} ${lr}`).toBe(false);
          expect(result.history.length).toBe(30);
          m.dispose();
        }
  });

  it("divergence at the first batch leaves the parameters fit started from", async () => {
    const m = softmaxRegression({ inputs: 3, classes: 3, seed: 1 });
    const before = snapshot(m);
    // Finite inputs whose logits overflow float32 at once: the first loss is NaN.
    const huge = Float32Array.from({ length: 6 }, (_, i) => (i % 2 ? 3e38 : -3e38));
    const result = await fit(m, { x: huge, y: [0, 1] }, { optimizer: "sgd" });
    expect(result.divergedAt).toMatchObject({ epoch: 1, batch: 1 });
    expect(bits(snapshot(m))).toEqual(bits(before));
    m.dispose();
  });
});

describe("callbacks, aborting and the event loop", () => {
  const d = dataset(10, 4);
  const base: FitOptions = { optimizer: "sgd", learningRate: 0.1, batchSize: 4, shuffle: false, epochs: 3 };

  it("onBatch gets each batch's figures; the epoch's are their row-weighted means", async () => {
    const m = net();
    const infos: Parameters<NonNullable<FitOptions["onBatch"]>>[0][] = [];
    const result = await fit(m, d, { ...base, onBatch: (info) => void infos.push(info) });
    expect(infos.map((i) => [i.epoch, i.batch, i.batches, i.rows])).toEqual(
      [1, 2, 3].flatMap((e) => [
        [e, 1, 3, 4],
        [e, 2, 3, 4],
        [e, 3, 3, 2],
      ]),
    );
    expect(Object.keys(infos[0]!).sort()).toEqual(["batch", "batches", "epoch", "kl", "loss", "rows"]);
    result.history.forEach((s, e) => {
      const mine = infos.slice(3 * e, 3 * e + 3);
      let loss = 0;
      let klSum = 0;
      for (const i of mine) {
        loss += i.loss * i.rows;
        klSum += i.kl * i.rows;
      }
      expect(s.loss).toBe(loss / 10);
      expect(s.kl).toBe(klSum / 10);
      expect(s.batches).toBe(3);
      expect(s.complete).toBe(true);
      expect(s.epoch).toBe(e + 1);
      expect(s.time).toBeGreaterThanOrEqual(0);
    });
    m.dispose();
  });

  it("onBatch returning false stops after that batch's update", async () => {
    const m = net();
    const optimizer = sgd({ learningRate: 0.1 });
    let atStop: Float32Array[] = [];
    const result = await fit(m, d, {
      ...base,
      learningRate: undefined,
      optimizer,
      validation: { x: d.x, y: d.y },
      onBatch: (info) => {
        if (info.epoch === 1 && info.batch === 2) {
          atStop = snapshot(m);
          return false;
        }
        return true;
      },
    });
    expect(result.stopReason).toBe("callback");
    expect(result.stoppedEarly).toBe(false);
    expect(result.history.length).toBe(1);
    expect(result.history[0]!.batches).toBe(2);
    expect(result.history[0]!.complete).toBe(false);
    expect(result.history[0]!.valLoss).toBeNull(); // a cut epoch is not validated
    expect(optimizer.stepCount).toBe(2);
    expect(bits(snapshot(m))).toEqual(bits(atStop));
    m.dispose();
  });

  it("onEpoch returning false stops after that epoch; it sees the epoch's stats", async () => {
    const m = net();
    const seen: EpochStats[] = [];
    const result = await fit(m, d, {
      ...base,
      epochs: 5,
      onEpoch: (s) => {
        seen.push({ ...s });
        return s.epoch < 2;
      },
    });
    expect(result.stopReason).toBe("callback");
    expect(result.history.length).toBe(2);
    expect(result.history.every((s) => s.complete && s.batches === 3)).toBe(true);
    expect(seen).toEqual(result.history);
    m.dispose();
  });

  it("async callbacks are awaited: a promise of false stops, others go on", async () => {
    const m = net();
    const events: string[] = [];
    const later = <T>(value: T): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(value), 2));
    const result = await fit(m, d, {
      ...base,
      epochs: 4,
      onBatch: async (info) => {
        events.push(`start ${info.epoch}.${info.batch}`);
        await later(null);
        events.push(`end ${info.epoch}.${info.batch}`);
      },
      onEpoch: (s) => later(s.epoch === 2 ? false : undefined),
    });
    expect(result.stopReason).toBe("callback");
    expect(result.history.length).toBe(2);
    // Every batch's callback finished before the next batch's began.
    expect(events).toEqual(
      [1, 2].flatMap((e) => [1, 2, 3].flatMap((b) => [`start ${e}.${b}`, `end ${e}.${b}`])),
    );
    const stopper = net();
    const r2 = await fit(stopper, d, { ...base, onBatch: (i) => later(i.batch !== 2) });
    expect(r2.stopReason).toBe("callback");
    expect(r2.history[0]!.batches).toBe(2);
    m.dispose();
    stopper.dispose();
  });

  it("a callback that throws rejects fit with its error; the model is free afterwards", async () => {
    const m = net();
    const boom = new SyntaxError("boom");
    await expect(fit(m, d, { ...base, onBatch: () => Promise.reject(boom) })).rejects.toBe(boom);
    await expect(
      fit(m, d, {
        ...base,
        onEpoch: () => {
          throw boom;
        },
      }),
    ).rejects.toBe(boom);
    expect((await fit(m, d, base)).stopReason).toBe("completed");
    m.dispose();
  });

  it("an AbortSignal aborted before fit: no batch runs, the parameters are unchanged", async () => {
    const m = net();
    const before = bits(snapshot(m));
    const controller = new AbortController();
    controller.abort();
    const optimizer = sgd();
    let batches = 0;
    const result = await fit(m, d, {
      ...base,
      learningRate: undefined,
      optimizer,
      signal: controller.signal,
      onBatch: () => void batches++,
    });
    expect(result.stopReason).toBe("aborted");
    expect(result.history).toEqual([]);
    expect(batches).toBe(0);
    expect(optimizer.stepCount).toBe(0);
    expect(bits(snapshot(m))).toEqual(before);
    m.dispose();
  });

  it("aborting from onBatch stops before the next batch", async () => {
    const m = net();
    const controller = new AbortController();
    let atAbort: Float32Array[] = [];
    const result = await fit(m, d, {
      ...base,
      signal: controller.signal,
      onBatch: (info) => {
        if (info.epoch === 2 && info.batch === 1) {
          controller.abort();
          atAbort = snapshot(m);
        }
      },
    });
    expect(result.stopReason).toBe("aborted");
    expect(result.history.length).toBe(2);
    expect(result.history[1]!.batches).toBe(1);
    expect(result.history[1]!.complete).toBe(false);
    expect(bits(snapshot(m))).toEqual(bits(atAbort));
    m.dispose();
  });

  it("aborting from a timer during training stops it", async () => {
    const m = net();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const started = performance.now();
    const result = await fit(m, d, { ...base, epochs: 1_000_000, signal: controller.signal });
    expect(result.stopReason).toBe("aborted");
    expect(result.history.length).toBeGreaterThan(0);
    expect(result.history.length).toBeLessThan(1_000_000);
    expect(performance.now() - started).toBeLessThan(5000);
    m.dispose();
  });

  it("fit yields to the event loop between batches", async () => {
    const m = net();
    let ran = false;
    const seen: boolean[] = [];
    setImmediate(() => (ran = true));
    const result = await fit(m, d, { ...base, epochs: 1, onBatch: () => void seen.push(ran) });
    expect(result.history[0]!.batches).toBe(3);
    // Batch 1 runs synchronously inside fit(); the immediate runs at the first yield after it.
    expect(seen).toEqual([false, true, true]);
    m.dispose();
  });

  it("a second fit on a model in training rejects; the first is unaffected", async () => {
    const m = net();
    const twin = net();
    const first = fit(m, d, base);
    const second = fit(m, d, base);
    await expect(second).rejects.toThrow(Error);
    await expect(second).rejects.toThrow("this model is being trained by another fit()");
    const r1 = await first;
    const r2 = await fit(twin, d, base);
    expect(timeless(r1.history)).toEqual(timeless(r2.history));
    expect(bits(snapshot(m))).toEqual(bits(snapshot(twin)));
    // Free again once the first finished.
    expect((await fit(m, d, base)).stopReason).toBe("completed");
    m.dispose();
    twin.dispose();
  });

  it("dispose() during training makes fit reject", async () => {
    const m = net();
    const fromCallback = fit(m, d, {
      ...base,
      onBatch: (info) => {
        if (info.batch === 2) m.dispose();
      },
    });
    await expect(fromCallback).rejects.toThrow("the model was disposed while fit() was training it");
    expect(m.disposed).toBe(true);

    const other = net();
    setTimeout(() => other.dispose(), 10);
    await expect(fit(other, d, { ...base, epochs: 1_000_000 })).rejects.toThrow(/disposed while fit/);
    expect(other.disposed).toBe(true);
  });
});

describe("options", () => {
  const d = dataset(12, 6);
  const full: FitOptions = { batchSize: 12, shuffle: false, epochs: 1 };

  it("clipNorm scales the step to at most that global norm", async () => {
    const delta = async (clipNorm?: number): Promise<{ norm: number; after: number[][] }> => {
      const m = net();
      const before = snapshot(m);
      await fit(m, d, { ...full, optimizer: sgd({ learningRate: 1 }), ...(clipNorm ? { clipNorm } : {}) });
      const after = snapshot(m);
      let sq = 0;
      before.forEach((b, i) => b.forEach((v, j) => (sq += (v - after[i]![j]!) ** 2)));
      m.dispose();
      return { norm: Math.sqrt(sq), after: bits(after) };
    };
    const free = await delta();
    expect(free.norm).toBeGreaterThan(0.05);
    const clipped = await delta(0.01);
    expect(Math.abs(clipped.norm - 0.01)).toBeLessThan(1e-5);
    // A bound above the gradient's norm changes nothing.
    expect((await delta(free.norm * 2)).after).toEqual(free.after);
  });

  it("temperature and the loss change the result", async () => {
    const run = async (extra: FitOptions): Promise<number[][]> => {
      const m = net();
      await fit(m, d, { ...full, optimizer: "sgd", learningRate: 0.5, ...extra });
      const b = bits(snapshot(m));
      m.dispose();
      return b;
    };
    const results = [
      await run({}),
      await run({ temperature: 2 }),
      ...(await Promise.all((["cross-entropy", "mse", "l1", "js"] as const).map((loss) => run({ loss })))),
    ];
    // kl and cross-entropy coincide on class indices; everything else differs.
    expect(results[2]).toEqual(results[0]);
    const distinct = [results[0], results[1], ...results.slice(3)].map((r) => JSON.stringify(r));
    expect(new Set(distinct).size).toBe(5);
  });

  it("an optimizer by name with learningRate is that optimizer; the default is adam()", async () => {
    const run = async (extra: FitOptions): Promise<number[][]> => {
      const m = net();
      await fit(m, d, { batchSize: 4, epochs: 2, seed: 1, ...extra });
      const b = bits(snapshot(m));
      m.dispose();
      return b;
    };
    const schedule = cosineSchedule({ initial: 0.1, steps: 6 });
    expect(await run({})).toEqual(await run({ optimizer: adam() }));
    expect(await run({ optimizer: "adam" })).toEqual(await run({ optimizer: adam() }));
    expect(await run({ optimizer: "sgd", learningRate: 0.3 })).toEqual(
      await run({ optimizer: sgd({ learningRate: 0.3 }) }),
    );
    expect(await run({ optimizer: "adam", learningRate: schedule })).toEqual(
      await run({ optimizer: adam({ learningRate: schedule }) }),
    );
    expect(await run({ optimizer: "sgd", learningRate: 0.3 })).not.toEqual(await run({ optimizer: "sgd" }));
    expect(await run({ optimizer: "rmsprop", learningRate: 0.02 })).toEqual(
      await run({ optimizer: rmsprop({ learningRate: 0.02 }) }),
    );
    expect(await run({ optimizer: "adagrad" })).toEqual(await run({ optimizer: adagrad() }));
  });

  it("an optimizer object is kept: a second fit continues its state", async () => {
    const once = net();
    const twice = net();
    const o1 = adam({ learningRate: 0.05 });
    const o2 = adam({ learningRate: 0.05 });
    const options: FitOptions = { batchSize: 4, shuffle: false };
    await fit(once, d, { ...options, optimizer: o1, epochs: 2 });
    await fit(twice, d, { ...options, optimizer: o2, epochs: 1 });
    await fit(twice, d, { ...options, optimizer: o2, epochs: 1 });
    expect(o1.stepCount).toBe(6);
    expect(o2.stepCount).toBe(6);
    expect(bits(snapshot(twice))).toEqual(bits(snapshot(once)));
    once.dispose();
    twice.dispose();
  });

  it("epochs 0 trains nothing", async () => {
    const m = net();
    const before = bits(snapshot(m));
    const result = await fit(m, d, { epochs: 0 });
    expect(result).toEqual({
      history: [],
      stoppedEarly: false,
      diverged: false,
      divergedAt: null,
      stopReason: "completed",
      bestEpoch: null,
      heldOut: null,
      threads: 1,
    });
    expect(bits(snapshot(m))).toEqual(before);
    m.dispose();
  });
});

describe("errors: the right type and message, and the parameters untouched", () => {
  const d = dataset(4, 7);
  const m = net();
  const before = bits(snapshot(m));

  /** fit(model, data, options) rejects with `type` and a message matching `message`; m unchanged. */
  const rejects = async (
    model: unknown,
    data: unknown,
    options: unknown,
    type: typeof Error,
    message: string | RegExp,
  ): Promise<void> => {
    const error = await fit(model as Model, data as never, options as FitOptions).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error, String(message)).toBeInstanceOf(type);
    if (type === Error) expect(error).not.toBeInstanceOf(TypeError);
    if (typeof message === "string") expect((error as Error).message).toContain(message);
    else expect((error as Error).message).toMatch(message);
    expect(bits(snapshot(m))).toEqual(before);
  };
  const badX = (x: unknown, y: unknown, type: typeof Error, message: string | RegExp): Promise<void> =>
    rejects(m, { x, y }, {}, type, message);
  const badY = (y: unknown, type: typeof Error, message: string | RegExp): Promise<void> =>
    rejects(m, { x: d.x, y }, {}, type, message);
  const badOption = (options: unknown, type: typeof Error, message: string | RegExp): Promise<void> =>
    rejects(m, d, options, type, message);

  it("x: whole rows, finite values, rows as long as the inputs", async () => {
    await badX(new Float32Array(7), [0, 1], RangeError, "x has 7 elements, not a multiple of inputs (3)");
    await badX(d.x, [0, 1, 2], RangeError, "x has 4 rows but y has 3");
    await badX(
      d.x,
      new Float32Array(15).fill(0.2),
      RangeError,
      /y holds 15 probabilities; 4 rows x 3 classes/,
    );
    // One value per row in a float array: class indices when every one is an integer in range.
    await badX(
      d.x,
      Float32Array.of(0, 1.5, 2, 0),
      RangeError,
      /y holds 4 probabilities; 4 rows x 3 classes need 12 \(one value per row is read as class indices only when every value is an integer in \[0, 3\)/,
    );
    const finite = "must be finite (in float32 range)";
    const nan32 = d.x.slice();
    nan32[5] = NaN;
    await badX(nan32, d.y, RangeError, `x row 1, column 2 ${finite}; got NaN`);
    const inf32 = d.x.slice();
    inf32[0] = Infinity;
    await badX(inf32, d.y, RangeError, `x row 0, column 0 ${finite}; got Infinity`);
    const nan64 = Float64Array.from(d.x);
    nan64[11] = NaN;
    await badX(nan64, d.y, RangeError, `x row 3, column 2 ${finite}; got NaN`);
    const inf64 = Float64Array.from(d.x);
    inf64[3] = -Infinity;
    await badX(inf64, d.y, RangeError, `x row 1, column 0 ${finite}; got -Infinity`);
    inf64[3] = 1e39; // finite in float64, not in float32
    await badX(inf64, d.y, RangeError, `x row 1, column 0 ${finite}; got 1e+39`);
    await badX(
      [
        [0, 1, 2],
        [3, NaN, 5],
      ],
      [0, 1],
      RangeError,
      `x row 1, column 1 ${finite}; got NaN`,
    );
    await badX([[0, 1, Infinity]], [0], RangeError, `x row 0, column 2 ${finite}; got Infinity`);
    await badX(
      [
        [0, 1, 2],
        [3, 4],
      ],
      [0, 1],
      RangeError,
      "x row 1 has 2 values; the model takes 3 inputs",
    );
    await badX([[0, 1, "2"]], [0], TypeError, `x row 0, column 2 must be a number; got "2"`);
    await badX(undefined, d.y, TypeError, /^x must be a Float32Array or Float64Array .* got undefined$/);
    await badX(new Float32Array(0), [], RangeError, "x has no rows");
  });

  it("y: class indices in range, probabilities that are distributions", async () => {
    const index = "must be a class index, an integer in [0, 3)";
    await badY([0, 1, -1, 2], RangeError, `y[2] ${index}; got -1`);
    await badY(Int32Array.of(0, 3, 1, 2), RangeError, `y[1] ${index}; got 3`);
    await badY([0, 1, 1.5, 2], RangeError, `y[2] ${index}; got 1.5`);
    await badY([0, 1, 0.5, 2], RangeError, /got 0\.5 \(probability targets must be a Float32Array/);
    const soft = [
      [0.2, 0.3, 0.5],
      [0.5, 0.5, 0],
      [1, 0, 0],
      [0.3, 0.3, 0.4],
    ];
    const row = (r: number, values: number[]): number[][] => soft.map((v, i) => (i === r ? values : v));
    await badY(
      row(2, [1.5, -0.5, 0]),
      RangeError,
      "y[7] (row 2) must be a finite probability >= 0; got -0.5",
    );
    await badY(
      row(3, [0.5, 0.5, 0.25]),
      RangeError,
      /^y row 3 sums to 1\.25, not 1 \(tolerance [^)]+\); soft targets must be probability distributions$/,
    );
    const nan = Float32Array.from(soft.flat());
    nan[4] = NaN;
    await badY(nan, RangeError, "y[4] (row 1) must be a finite probability >= 0; got NaN");
    await badY(
      [
        [0.5, 0.5],
        [1, 0],
        [1, 0],
        [1, 0],
      ],
      RangeError,
      "y row 0 has 2 probabilities; the model has 3",
    );
    await badY("0,1,2,0", TypeError, /^y must be class indices .* got "0,1,2,0"$/);
    await badY(undefined, TypeError, /^y must be class indices .* got undefined$/);
    await rejects(m, null, {}, TypeError, "data must be an object { x, y }; got null");
    // A categorical model takes no x.
    const c = categorical({ classes: 3 });
    await expect(fit(c, { x: d.x, y: d.y })).rejects.toThrow(TypeError);
    await expect(fit(c, { x: d.x, y: d.y })).rejects.toThrow(/a categorical model takes no input/);
    expect(Array.from(c.parameters()[0]!.array)).toEqual([0, 0, 0]);
    c.dispose();
  });

  it("options: names, ranges and types", async () => {
    await badOption({ loss: "hinge" }, TypeError, /^loss must be one of 'kl', .* got "hinge"$/);
    await badOption({ optimizer: "lbfgs" }, TypeError, /^optimizer must be one of 'adam', .* got "lbfgs"$/);
    await badOption(
      { optimizer: "constructor" },
      TypeError,
      /^optimizer must be one of .* got "constructor"$/,
    );
    await badOption({ optimizer: { step: 1 } }, TypeError, /^optimizer must be one of .* got Object$/);
    const rate = "learningRate applies to an optimizer given by name";
    await badOption({ optimizer: sgd(), learningRate: 0.1 }, TypeError, rate);
    await badOption({ optimizer: "sgd", learningRate: -1 }, RangeError, /^learningRate must be .* got -1$/);
    await badOption({ batchSize: 0 }, RangeError, "batchSize must be a positive integer; got 0");
    await badOption({ batchSize: 2.5 }, RangeError, "batchSize must be a positive integer; got 2.5");
    await badOption({ batchSize: "8" }, TypeError, `batchSize must be a number; got "8"`);
    await badOption({ epochs: -1 }, RangeError, "epochs must be an integer >= 0; got -1");
    await badOption({ epochs: Infinity }, RangeError, "epochs must be an integer >= 0; got Infinity");
    await badOption(
      { lr: 0.1 },
      TypeError,
      /^fit: unknown option 'lr' \(did you mean 'learningRate'\?\); known options: loss, optimizer/,
    );
    const split = /^validation as a fraction must be in \(0, 1\) .* of the 4 rows; got /;
    await badOption({ validation: 0 }, RangeError, new RegExp(split.source + "0$"));
    await badOption({ validation: 1 }, RangeError, new RegExp(split.source + "1$"));
    await badOption({ validation: 0.9 }, RangeError, new RegExp(split.source + "0\\.9$")); // 0 training rows
    await badOption({ validation: 0.1 }, RangeError, new RegExp(split.source + "0\\.1$")); // 0 held out
    await badOption({ validation: { x: d.x, y: [0, 1] } }, RangeError, "x has 4 rows but y has 2");
    await badOption({ validation: "0.2" }, TypeError, `validation must be an object { x, y }; got "0.2"`);
    await badOption({ temperature: 0 }, RangeError, "temperature must be a finite number > 0; got 0");
    await badOption({ clipNorm: 0 }, RangeError, "clipNorm must be a number > 0; got 0");
    await badOption({ seed: 0.5 }, RangeError, "seed must be an integer; got 0.5");
    await badOption({ shuffle: 1 }, TypeError, "shuffle must be a boolean; got 1");
    await badOption({ onBatch: true }, TypeError, "onBatch must be a function; got boolean");
    await badOption({ onEpoch: "log" }, TypeError, `onEpoch must be a function; got "log"`);
    await badOption({ signal: {} }, TypeError, "signal must be an AbortSignal; got Object");
    await badOption(
      { onDivergence: "ignore" },
      TypeError,
      `onDivergence must be 'stop' or 'throw'; got "ignore"`,
    );
    await badOption(
      { earlyStopping: { patience: -1 } },
      RangeError,
      "patience must be an integer >= 0; got -1",
    );
    const delta = "minDelta must be a finite number >= 0; got -0.1";
    await badOption({ earlyStopping: { minDelta: -0.1 } }, RangeError, delta);
    await badOption({ earlyStopping: { wait: 2 } }, TypeError, /^earlyStopping: unknown option 'wait'/);
    await badOption(5, TypeError, "options must be an object; got 5");
  });

  it("the model: a live model made by this library", async () => {
    const made =
      /^model must be a model made by categorical\(\), softmaxRegression\(\), mlp\(\) or loadModel\(\)/;
    await rejects({}, d, {}, TypeError, new RegExp(made.source + "; got Object$"));
    await rejects(null, d, {}, TypeError, new RegExp(made.source + "; got null$"));
    const lookalike = { ...m, parameters: () => m.parameters(), predict: () => new Float32Array(3) };
    await rejects(lookalike, d, {}, TypeError, made);
    const gone = net();
    gone.dispose();
    await expect(fit(gone, d)).rejects.toThrow(Error);
    await expect(fit(gone, d)).rejects.toThrow("this model was disposed");
  });

  it("an optimizer bound to other parameters fails at its first step, changing nothing", async () => {
    const other = net();
    const optimizer = sgd({ learningRate: 0.1 });
    await fit(other, d, { optimizer, epochs: 1 });
    await badOption(
      { optimizer, epochs: 1 },
      TypeError,
      /call reset\(\) to start over with other parameters/,
    );
    const disposed = sgd();
    disposed.dispose();
    await badOption({ optimizer: disposed }, Error, "this optimizer was disposed");
    other.dispose();
    // After every rejection the model is free and trains.
    const result = await fit(m, d, { epochs: 1, optimizer: "sgd" });
    expect(result.stopReason).toBe("completed");
    expect(bits(snapshot(m))).not.toEqual(before);
  });
});

describe("the finiteness check of x, in both builds", () => {
  // x is checked in 64 Ki-value chunks by a kernel with a 16-wide SIMD loop, a 4-wide loop and a
  // scalar tail: a bad value at each kind of position, in both builds, must be found and named.
  const inputs = 7;
  const rows = 20_000; // 140,000 values: three chunks, the last a partial one
  const builds: [string, Klcore][] = [
    ["simd", createInstanceSync({ simd: true })],
    ["scalar", createInstanceSync({ simd: false })],
  ];
  const positions = [0, 15, 16, 65_535, 65_536, 131_071, 139_998, 139_999];
  for (const [build, k] of builds) {
    it(`finds NaN, Infinity and -Infinity at every kind of position (${build} build)`, async () => {
      const m = k.softmaxRegression({ inputs, classes: 3, seed: 1 });
      const before = m.parameters().map((p) => p.array.slice());
      const y = new Int32Array(rows);
      const x = new Float32Array(rows * inputs).fill(0.5);
      for (const at of positions) {
        for (const bad of [NaN, Infinity, -Infinity]) {
          x[at] = bad;
          const row = Math.floor(at / inputs);
          const col = at % inputs;
          await expect(fit(m, { x, y }, { epochs: 1 })).rejects.toThrow(
            `x row ${row}, column ${col} must be finite (in float32 range); got ${bad}`,
          );
          x[at] = 0.5;
        }
      }
      // Float64 values beyond float32's range are named with their own value.
      const x64 = new Float64Array(rows * inputs).fill(0.5);
      x64[139_990] = 1e39;
      await expect(fit(m, { x: x64, y }, { epochs: 1 })).rejects.toThrow(
        `x row 19998, column 4 must be finite (in float32 range); got 1e+39`,
      );
      m.parameters().forEach((p, i) => expect(p.array).toEqual(before[i]));
      // And clean data of the same size trains.
      const r = await fit(m, { x, y }, { epochs: 1, batchSize: 5000 });
      expect(r.stopReason).toBe("completed");
      m.dispose();
    });
  }
});

describe("x checked batch by batch in the first epoch", () => {
  // fit() checks each batch of x as it gathers it. A bad value found after some steps must leave
  // the model and the optimiser as fit() found them, with the error the check on the way in gave.
  const rows = 64;
  const inputs = 3;
  const data = (seed: number) => {
    const r = rng(seed);
    return {
      x: uniform(rows * inputs, r),
      y: Int32Array.from({ length: rows }, () => Math.floor(r() * 3)),
    };
  };
  const models: [string, (k: Klcore) => Model][] = [
    ["softmax regression", (k) => k.softmaxRegression({ inputs, classes: 3, seed: 3 })],
    ["MLP with tanh", (k) => k.mlp({ inputs, hidden: [5], classes: 3, activation: "tanh", seed: 3 })],
    ["MLP with ReLU", (k) => k.mlp({ inputs, hidden: [5], classes: 3, activation: "relu", seed: 3 })],
  ];
  const settings = { epochs: 2, batchSize: 8, shuffle: false };
  for (const [name, make] of models) {
    for (const [build, k] of [
      ["simd", simd],
      ["scalar", scalar],
    ] as [string, Klcore][]) {
      it(`${name} (${build} build): steps before the bad batch are undone, optimiser state included`, async () => {
        const d = data(11);
        const m = make(k);
        const twin = make(k);
        const opt = adam({ learningRate: 0.05 });
        const twinOpt = adam({ learningRate: 0.05 });
        // Both optimisers bound, with moments and a step count, before the failing call.
        await fit(m, d, { ...settings, optimizer: opt });
        await fit(twin, d, { ...settings, optimizer: twinOpt });
        // Row 60 is in the eighth and last batch; -Infinity is what ReLU and tanh would hide.
        for (const bad of [NaN, Infinity, -Infinity]) {
          const x = d.x.slice();
          x[60 * inputs + 1] = bad;
          let batches = 0;
          await expect(
            fit(m, { x, y: d.y }, { ...settings, optimizer: opt, onBatch: () => void batches++ }),
          ).rejects.toThrow(`x row 60, column 1 must be finite (in float32 range); got ${bad}`);
          expect(batches).toBe(7);
          expect(bits(snapshot(m))).toEqual(bits(snapshot(twin)));
          expect(opt.stepCount).toBe(twinOpt.stepCount);
        }
        // The moments were put back too: the next fit of each goes the same way.
        const a = await fit(m, d, { ...settings, optimizer: opt });
        const b = await fit(twin, d, { ...settings, optimizer: twinOpt });
        expect(timeless(a.history)).toEqual(timeless(b.history));
        expect(bits(snapshot(m))).toEqual(bits(snapshot(twin)));
        m.dispose();
        twin.dispose();
        opt.dispose();
        twinOpt.dispose();
      });
    }
  }

  it("a fresh optimiser is left unbound, and an owned one is disposed", async () => {
    const d = data(12);
    const m = simd.softmaxRegression({ inputs, classes: 3, seed: 3 });
    const before = bits(snapshot(m));
    const x = d.x.slice();
    x[50 * inputs] = NaN;
    const opt = sgd({ learningRate: 0.1, momentum: 0.9 });
    await expect(fit(m, { x, y: d.y }, { ...settings, optimizer: opt })).rejects.toThrow(
      "x row 50, column 0",
    );
    expect(opt.stepCount).toBe(0);
    expect(bits(snapshot(m))).toEqual(before);
    // Unbound: it steps other arrays without complaint.
    const other = simd.softmaxRegression({ inputs, classes: 3, seed: 4 });
    expect((await fit(other, d, { ...settings, optimizer: opt })).stopReason).toBe("completed");
    await expect(fit(m, { x, y: d.y }, settings)).rejects.toThrow("x row 50, column 0");
    expect(bits(snapshot(m))).toEqual(before);
    m.dispose();
    other.dispose();
  });

  it("huge finite x that overflows the logits is divergence, not bad input", async () => {
    const d = data(13);
    const m = simd.softmaxRegression({ inputs, classes: 3, seed: 3 });
    const x = d.x.slice();
    x[40 * inputs + 2] = 3e38;
    const r = await fit(m, { x, y: d.y }, { ...settings, optimizer: "sgd" });
    expect(r.diverged).toBe(true);
    expect(r.divergedAt!.batch).toBe(6);
    expect(allFinite(snapshot(m))).toBe(true);
    m.dispose();
  });

  it("validation data: a bad value is found after the first epoch's training, and undone", async () => {
    const d = data(14);
    const v = data(15);
    const m = simd.mlp({ inputs, hidden: [4], classes: 3, activation: "relu", seed: 3 });
    const before = bits(snapshot(m));
    v.x[9 * inputs + 2] = -Infinity;
    let epochsSeen = 0;
    let batches = 0;
    const options = {
      ...settings,
      validation: v,
      onEpoch: () => void epochsSeen++,
      onBatch: () => void batches++,
    };
    await expect(fit(m, d, options)).rejects.toThrow(
      "x row 9, column 2 must be finite (in float32 range); got -Infinity",
    );
    expect(batches).toBe(8);
    expect(epochsSeen).toBe(0);
    expect(bits(snapshot(m))).toEqual(before);
    // A bad value in the training data is named first, as before, wherever the batches found it.
    const x = d.x.slice();
    x[63 * inputs] = NaN;
    await expect(fit(m, { x, y: d.y }, options)).rejects.toThrow("x row 63, column 0");
    // A held-out fraction is named by its row in the data given.
    await expect(fit(m, { x, y: d.y }, { ...settings, validation: 0.25 })).rejects.toThrow(
      "x row 63, column 0",
    );
    expect(bits(snapshot(m))).toEqual(before);
    m.dispose();
  });

  it("an optimiser of the caller's own: x is checked before the first step", async () => {
    const d = data(16);
    const m = simd.softmaxRegression({ inputs, classes: 3, seed: 3 });
    let steps = 0;
    const own = {
      step: () => void steps++,
      reset: () => {},
      dispose: () => {},
      stepCount: 0,
      learningRate: 0,
    };
    const x = d.x.slice();
    x[63 * inputs] = NaN;
    await expect(fit(m, { x, y: d.y }, { ...settings, optimizer: own })).rejects.toThrow(
      "x row 63, column 0",
    );
    expect(steps).toBe(0);
    await fit(m, d, { ...settings, optimizer: own });
    expect(steps).toBe(16);
    m.dispose();
  });
});

describe("accuracy: the first maximum of each row, in both builds", () => {
  // A categorical model's logits are theta in every row, so theta sets the predicted class.
  const builds: [string, Klcore][] = [
    ["simd", simd],
    ["scalar", scalar],
  ];
  for (const [build, k] of builds) {
    it(`ties go to the first class, NaN never wins, a row of -Infinity predicts class 0 (${build} build)`, async () => {
      const m = k.categorical({ classes: 3 });
      const theta = (values: number[]): void => m.parameters()[0]!.array.set(values);
      const labels = Int32Array.from([0, 1, 2, 0]);
      // Probability targets: row argmaxes 0 (a tie), 1 (a tie) and 2.
      const soft = Float32Array.from([0.5, 0.5, 0, 0.2, 0.4, 0.4, 0.1, 0.2, 0.7]);
      theta([1, 1, 0]);
      expect(m.evaluate(null, labels).accuracy).toBe(0.5);
      expect(m.evaluate(null, soft).accuracy).toBe(1 / 3);
      // fit measures each batch before its update: at rate 0 every batch sees the same theta.
      const r = await fit(m, { y: labels }, { epochs: 1, batchSize: 3, optimizer: sgd({ learningRate: 0 }) });
      expect(r.history[0]!.accuracy).toBe(0.5);
      const s = await fit(m, { y: soft }, { epochs: 1, batchSize: 2, optimizer: sgd({ learningRate: 0 }) });
      expect(s.history[0]!.accuracy).toBe(1 / 3);
      theta([NaN, 2, 2]);
      expect(m.evaluate(null, labels).accuracy).toBe(0.25);
      expect(m.evaluate(null, soft).accuracy).toBe(1 / 3);
      theta([NaN, NaN, 3]);
      expect(m.evaluate(null, labels).accuracy).toBe(0.25);
      expect(m.evaluate(null, soft).accuracy).toBe(1 / 3);
      theta([-Infinity, -Infinity, -Infinity]);
      expect(m.evaluate(null, labels).accuracy).toBe(0.5);
      expect(m.evaluate(null, soft).accuracy).toBe(1 / 3);
      m.dispose();
    });

    it(`the count of index labels is the first maximum's over 13 classes with ties, NaN and infinities (${build} build)`, () => {
      // 13 classes: three blocks of 4 and a tail in the SIMD build. Values from a small set, so that
      // ties, NaN and infinities meet the label before, at and after it.
      const classes = 13;
      const m = k.categorical({ classes });
      const pool = [0, 1, 1, 2, -1, NaN, Infinity, -Infinity, 3.5, -0];
      const random = rng(4242);
      const firstMax = (v: number[]): number => {
        let best = 0;
        let max = -Infinity;
        v.forEach((x, c) => {
          if (x > max) [max, best] = [x, c];
        });
        return best;
      };
      const all = Int32Array.from({ length: classes }, (_, c) => c);
      for (let trial = 0; trial < 400; trial++) {
        const v = Array.from({ length: classes }, () => pool[Math.floor(random() * pool.length)]!);
        if (trial % 7 === 0) v.fill(trial % 2 ? -Infinity : NaN);
        m.parameters()[0]!.array.set(v);
        // One row per label: exactly one is correct, the first maximum's.
        expect(m.evaluate(null, all).accuracy).toBe(1 / classes);
        expect(m.evaluate(null, Int32Array.of(firstMax(v))).accuracy).toBe(1);
      }
      m.dispose();
    });
  }
});
