// The PyTorch contenders (bench/contenders/torch.mjs and the child torch_child.py) compute what the
// JavaScript references compute: the VI step's ELBO estimate and gradient at a fixed point and fixed
// draws (both families, with and without "sticking the landing"), and the other suites' workloads
// (kl, cross-entropy with its gradient, a training epoch). PyTorch is optional: without it (no
// /usr/bin/python3 with torch) every test here is skipped, with the reason in the title.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startTorch,
  torchAvailable,
  torchKl,
  torchTrain,
  torchXent,
  type TorchChild,
} from "../bench/contenders/torch.mjs";
import { JsAdam, JsMlp, epochOrder, jsTrainer, teacherData } from "../bench/reference/train.mjs";
import {
  elboGradient,
  elboWorkspace,
  gaussianParams,
  gaussianStream,
  gaussianTarget,
  jsVi,
  logisticData,
  logisticRegressionTarget,
  type Family,
} from "../bench/reference/vi.mjs";

/** KL(p || q) in float64 with a compensated (Neumaier) sum; a p = 0 term is 0. */
function klReference(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let s = 0,
    c = 0;
  for (let i = 0; i < p.length; i++) {
    if (!(p[i]! > 0)) continue;
    const v = p[i]! * Math.log(p[i]! / q[i]!);
    const t = s + v;
    c += Math.abs(s) >= Math.abs(v) ? s - t + v : v - t + s;
    s = t;
  }
  return s + c;
}

/** Softmax cross-entropy of class indices, mean over rows, and its gradient, in float64. */
function xentReference(z: Float64Array, y: Int32Array, rows: number, classes: number) {
  const grad = new Float64Array(rows * classes);
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * classes;
    let m = -Infinity;
    for (let j = 0; j < classes; j++) m = Math.max(m, z[o + j]!);
    let sum = 0;
    for (let j = 0; j < classes; j++) sum += Math.exp(z[o + j]! - m);
    loss += (m + Math.log(sum) - z[o + y[r]!]!) / rows;
    for (let j = 0; j < classes; j++) grad[o + j] = Math.exp(z[o + j]! - m) / sum / rows;
    grad[o + y[r]!]! -= 1 / rows;
  }
  return { loss, grad };
}

const available = torchAvailable();
const title = available.ok
  ? "the PyTorch contenders"
  : `the PyTorch contenders (skipped: ${available.reason})`;

describe.skipIf(!available.ok)(title, () => {
  let torch: TorchChild;
  beforeAll(async () => {
    torch = await startTorch({ threads: 1 });
  }, 120_000);
  afterAll(async () => {
    await torch?.close();
  });

  it("reports its versions and runs on the one thread it was asked for", () => {
    expect(torch.info.torch).toMatch(/^\d+\.\d+/);
    expect(torch.info.threads).toBe(1);
  });

  const data = logisticData({ rows: 200, features: 6, seed: 5 });
  for (const family of ["meanfield", "fullrank"] as Family[]) {
    for (const stl of [false, true]) {
      it(`VI ${family}${stl ? ", STL" : ""}: the same ELBO estimate and gradient as the JavaScript loop`, async () => {
        const target = logisticRegressionTarget({ x: data.x, y: data.y, priorScale: 1.5 });
        const id = await torch.setup(
          "vi",
          { target: "logisticRegression", family, draws: 8, stl, priorScale: 1.5 },
          { x: [data.x, [data.rows, data.features]], y: data.y },
        );
        const draws = 8;
        const params = gaussianParams({ dim: target.dim, family });
        gaussianStream(3).fill(params.theta);
        for (let i = 0; i < params.size; i++) params.theta[i]! *= 0.4;
        const eps = gaussianStream(4).fill(new Float64Array(draws * target.dim));
        const g = new Float64Array(params.size);
        const elbo = elboGradient(target, params, eps, draws, g, elboWorkspace(target.dim, draws), { stl });
        const r = await torch.call(
          id,
          "gradient",
          {},
          { theta: params.theta, eps: [eps, [draws, target.dim]] },
        );
        const tg = r.arrays.gradient!;
        expect(tg).toHaveLength(params.size);
        expect(Math.abs((r.elbo as number) - elbo) / Math.abs(elbo)).toBeLessThan(1e-13);
        const scale = Math.max(...Array.from(g, Math.abs));
        for (let i = 0; i < g.length; i++)
          expect(Math.abs(tg[i]! - g[i]!) / scale, `entry ${i}`).toBeLessThan(1e-12);
        await torch.dispose(id);
      });
    }
  }

  it("VI on a Gaussian target: PyTorch's fit and the JavaScript fit both reach the closed form", async () => {
    // Different generators, so different paths: only their destinations are compared.
    const mean = Float64Array.from([1, -1, 0.5]);
    const precision = Float64Array.from([2, 0.6, 0, 0.6, 1, 0.3, 0, 0.3, 0.5]);
    const id = await torch.setup(
      "vi",
      { target: "gaussian", family: "fullrank", draws: 8, learningRate: 0.02, seed: 3, stl: true },
      { mean, precision: [precision, [3, 3]] },
    );
    await torch.run(id, 1500);
    const theta = (await torch.call(id, "theta")).arrays.theta!;
    const js = jsVi(gaussianTarget({ mean, precision }), {
      family: "fullrank",
      learningRate: 0.02,
      stl: true,
    });
    js.run(1500);
    for (let j = 0; j < 3; j++) {
      expect(Math.abs(theta[j]! - mean[j]!), `torch mean ${j}`).toBeLessThan(0.02);
      expect(Math.abs(js.params.theta[j]! - mean[j]!), `js mean ${j}`).toBeLessThan(0.02);
    }
    await torch.dispose(id);
  });

  it("run() times the iterations in the child and returns the last value", async () => {
    const id = await torch.setup(
      "vi",
      { target: "logisticRegression", family: "meanfield", draws: 8 },
      { x: [data.x, [data.rows, data.features]], y: data.y },
    );
    const one = await torch.run(id, 1);
    const many = await torch.run(id, 50);
    expect(one.ns).toBeGreaterThan(0);
    expect(many.ns).toBeGreaterThan(one.ns);
    expect(Number.isFinite(many.value)).toBe(true);
    await torch.dispose(id);
  });

  for (const dtype of ["float32", "float64"] as const) {
    it(`kl ${dtype}: the float64 reference's value, p with zeros`, async () => {
      const Arr = dtype === "float32" ? Float32Array : Float64Array;
      const n = 10_000;
      const rand = gaussianStream(9);
      const raw = rand.fill(new Float64Array(2 * n));
      const p = new Arr(n),
        q = new Arr(n);
      let sp = 0,
        sq = 0;
      for (let i = 0; i < n; i++) {
        p[i] = i % 10 === 0 ? 0 : Math.abs(raw[i]!) + 1e-3;
        q[i] = Math.abs(raw[n + i]!) + 1e-3;
        sp += p[i]!;
        sq += q[i]!;
      }
      for (let i = 0; i < n; i++) {
        p[i]! /= sp;
        q[i]! /= sq;
      }
      const c = await torchKl(torch, p, q);
      const value = await c.fn();
      const exact = klReference(p, q);
      expect(Math.abs(value - exact) / exact).toBeLessThan(dtype === "float32" ? 1e-4 : 1e-12);
      expect(await c.timed(3)).toBeGreaterThan(0);
      await c.dispose();
    });
  }

  it("cross-entropy with its gradient: the float64 reference's loss and gradient", async () => {
    const rows = 64,
      classes = 100;
    const z = gaussianStream(12).fill(new Float64Array(rows * classes));
    const y = Int32Array.from({ length: rows }, (_, i) => (i * 37) % classes);
    const c = await torchXent(torch, z, y, rows, classes);
    const value = await c.fn();
    const grad = await c.gradient();
    const ref = xentReference(z, y, rows, classes);
    expect(Math.abs(value - ref.loss) / ref.loss).toBeLessThan(1e-13);
    let worst = 0;
    for (let i = 0; i < grad.length; i++) worst = Math.max(worst, Math.abs(grad[i]! - ref.grad[i]!));
    expect(worst).toBeLessThan(1e-15);
    await c.dispose();
  });

  it("a training epoch trains as the JavaScript loop does, from the same weights on the same batches", async () => {
    const shape = { samples: 300, inputs: 20, classes: 10 };
    const set = teacherData({ ...shape, seed: 11 });
    const batchSize = 32;
    const js = new JsMlp({ inputs: shape.inputs, hidden: [16], classes: shape.classes, seed: 5 });
    const sizes = [shape.inputs, 16, shape.classes];
    const weights = js.parameters().map((w) => w.slice());
    const c = await torchTrain(torch, {
      ...set,
      order: epochOrder(shape.samples, 3),
      weights,
      sizes,
      batchSize,
      learningRate: 1e-3,
    });
    const jsEpoch = jsTrainer(js, new JsAdam({ learningRate: 1e-3 }), set, { batchSize, seed: 3 });
    for (let epoch = 0; epoch < 2; epoch++) {
      const jsLoss = jsEpoch();
      const value = await c.fn();
      expect(Math.abs(value - jsLoss) / jsLoss, `epoch ${epoch}`).toBeLessThan(1e-4);
    }
    // The parameters in klcore's order [W0, b0, W1, b1], each within float32 rounding of the loop's.
    const theirs = await c.parameters();
    const mine = js.parameters();
    expect(theirs.map((a) => a.length)).toEqual(mine.map((a) => a.length));
    mine.forEach((m, k) => {
      const scale = Math.max(...Array.from(m, Math.abs));
      let worst = 0;
      for (let i = 0; i < m.length; i++) worst = Math.max(worst, Math.abs(theirs[k]![i]! - m[i]!));
      expect(worst / scale, `parameter ${k}`).toBeLessThan(1e-3);
    });
    // And the two epochs moved the weights far more than that: agreeing is not standing still.
    const moved = Math.max(...weights[0]!.map((w, i) => Math.abs(w - mine[0]![i]!)));
    expect(moved / Math.max(...Array.from(mine[0]!, Math.abs))).toBeGreaterThan(1e-2);
    await c.dispose();
  });
});
