// The contenders of the training benchmark (bench/suites/train.mjs) compute the same thing: klcore's epoch
// (the internal models, crossEntropyWithLogits with its gradient in place, adam) and the plain
// JavaScript loop of bench/reference/train.mjs, from the same weights on the same batches, agree on
// the losses, the parameters and the last batch's gradients to float32 rounding (their summation
// orders differ only in how JavaScript rounds each product), and both learn. Each piece of the
// JavaScript loop is checked on its own, and so is the check the benchmark relies on: a contender
// that trains differently is caught. Small shapes (300 samples, 20 inputs, hidden 16, batch 32,
// the last batch of 12 rows) keep it fast.
import { describe, expect, it } from "vitest";
import { adam, createInstanceSync, type Klcore, type WasmArray } from "../dist/index.js";
import {
  JsAdam,
  JsMlp,
  epochOrder,
  jsTrainer,
  softmaxCrossEntropy,
  teacherData,
} from "../bench/reference/train.mjs";
import {
  jsModelLike,
  klcoreEpoch,
  klcoreModel,
  largestDifference,
  modelDifference,
  type KlcoreModel,
} from "../bench/suites/train.mjs";
import { FIT_OVERHEAD_TARGET, fitOverhead } from "../bench/suites/fit.mjs";

const inst: Klcore = createInstanceSync({ simd: true });
const SHAPE = { samples: 300, inputs: 20, classes: 10, batchSize: 32 };
const SEEDS = { data: 11, model: 5, shuffle: 3 };
const data = teacherData({
  samples: SHAPE.samples,
  inputs: SHAPE.inputs,
  classes: SHAPE.classes,
  seed: SEEDS.data,
});

const MODELS = [
  { name: "softmax regression", hidden: [] as number[] },
  { name: "mlp relu [16]", hidden: [16] },
];

const values = (list: WasmArray<"float32">[]): Float32Array[] => list.map((a) => a.array.slice());

function makeModel(hidden: readonly number[]): KlcoreModel {
  return klcoreModel(inst, { inputs: SHAPE.inputs, hidden, classes: SHAPE.classes, seed: SEEDS.model });
}

/** A klcore model, a JavaScript copy of it, both optimisers, and one epoch of each. */
function pair(hidden: readonly number[], jsOptions: { learningRate?: number; shuffle?: number } = {}) {
  const k = makeModel(hidden);
  const js = jsModelLike(k, hidden);
  const kOpt = adam({ learningRate: 1e-3 });
  const jsOpt = new JsAdam({ learningRate: jsOptions.learningRate ?? 1e-3 });
  const jsEpoch = jsTrainer(js, jsOpt, data, {
    batchSize: SHAPE.batchSize,
    seed: jsOptions.shuffle ?? SEEDS.shuffle,
  });
  const kEpoch = (): number =>
    klcoreEpoch(inst, k, data, { batchSize: SHAPE.batchSize, optimizer: kOpt, seed: SEEDS.shuffle });
  const dispose = (): void => {
    k.dispose();
    kOpt.dispose();
  };
  return { k, js, kEpoch, jsEpoch, jsOpt, dispose };
}

describe("the benchmark's data", () => {
  it("is seeded, in [0, 1), float32, and labelled by every class", () => {
    const again = teacherData({ samples: 300, inputs: 20, classes: 10, seed: SEEDS.data });
    expect(again.x).toEqual(data.x);
    expect(again.y).toEqual(data.y);
    const other = teacherData({ samples: 300, inputs: 20, classes: 10, seed: SEEDS.data + 1 });
    expect(other.x).not.toEqual(data.x);
    expect(data.x.length).toBe(300 * 20);
    expect(Math.min(...data.x)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...data.x)).toBeLessThan(1);
    const counts = new Array<number>(10).fill(0);
    for (const c of data.y) counts[c]!++;
    // 30 per class on average: a teacher that favoured a few classes would leave some near 0.
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(10);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(300);
  });

  it("is shuffled by a seeded permutation", () => {
    const order = epochOrder(300, 3);
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(epochOrder(300, 3)).toEqual(order);
    expect(epochOrder(300, 4)).not.toEqual(order);
    expect(order.filter((v, i) => v === i).length).toBeLessThan(10);
  });
});

describe("the JavaScript pieces against float64 and against klcore", () => {
  it("softmaxCrossEntropy gives the mean loss and (softmax - onehot) / rows", () => {
    const logits = new Float32Array([1, 2, 3, 0.5, 0.1, -1]);
    const grad = new Float32Array(6);
    const loss = softmaxCrossEntropy(logits, new Int32Array([2, 0]), 2, 3, grad);
    const lse0 = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    const lse1 = Math.log(Math.exp(0.5) + Math.exp(0.1) + Math.exp(-1));
    const z = [1, 2, 3, 0.5, Math.fround(0.1), -1];
    expect(loss).toBeCloseTo((lse0 - 3 + (lse1 - 0.5)) / 2, 6);
    const want = z.map((v, i) => (Math.exp(v - (i < 3 ? lse0 : lse1)) - (i === 2 || i === 3 ? 1 : 0)) / 2);
    want.forEach((w, i) => expect(grad[i]).toBeCloseTo(w, 6));
    // Stable: logits whose exponentials overflow float64 give the same loss as shifted ones.
    const big = softmaxCrossEntropy(new Float32Array([1001, 1002, 1003]), new Int32Array([2]), 1, 3, grad);
    expect(big).toBeCloseTo(lse0 - 3, 5);
  });

  for (const { name, hidden } of MODELS) {
    it(`${name}: forward and backward match the klcore model on one batch`, () => {
      const k = makeModel(hidden);
      const js = jsModelLike(k, hidden);
      const rows = 12;
      const x = inst.alloc("float32", rows * SHAPE.inputs);
      x.array.set(data.x.subarray(0, rows * SHAPE.inputs));
      const xs = x.array.slice();
      const jsLogits = js.forward(xs, rows).slice();
      const kLogits = k.forward(x, rows).slice();
      expect(largestDifference([kLogits], [jsLogits])).toBeLessThan(1e-5);
      expect(Math.max(...jsLogits.map(Math.abs))).toBeGreaterThan(0.1);

      const dy = inst.alloc("float32", rows * SHAPE.classes);
      const labels = data.y.subarray(0, rows);
      softmaxCrossEntropy(jsLogits, labels, rows, SHAPE.classes, dy.array);
      const dys = dy.array.slice();
      js.backward(dys, rows);
      k.backward(dy, rows);
      const kGrads = values(k.gradients());
      expect(kGrads.length).toBe(js.gradients().length);
      expect(largestDifference(kGrads, js.gradients())).toBeLessThan(1e-5);
      // Real gradients, every array non-zero.
      for (const g of js.gradients()) expect(Math.max(...g.map(Math.abs))).toBeGreaterThan(1e-4);
      x.free();
      dy.free();
      k.dispose();
    });
  }

  it("JsAdam takes klcore adam's steps", () => {
    const k = makeModel([16]);
    const js = jsModelLike(k, [16]);
    const kOpt = adam({ learningRate: 1e-3 });
    const jsOpt = new JsAdam({ learningRate: 1e-3 });
    const before = js.parameters().map((p) => p.slice());
    for (let t = 1; t <= 3; t++) {
      // The same made-up gradients in both, different per step.
      k.gradients().forEach((g, i) => {
        const v = Float32Array.from({ length: g.length }, (_, j) => Math.sin(7 * j + 3 * i + t) * 10 ** -t);
        g.array.set(v);
        js.gradients()[i]!.set(v);
      });
      kOpt.step(k.parameters(), k.gradients());
      jsOpt.step(js.parameters(), js.gradients());
    }
    expect(jsOpt.t).toBe(3);
    expect(largestDifference(values(k.parameters()), js.parameters())).toBeLessThan(1e-6);
    // Three steps of about lr each.
    const moved = largestDifference(before, js.parameters());
    expect(moved).toBeGreaterThan(1e-3);
    kOpt.dispose();
    k.dispose();
  });
});

describe("one epoch: klcore and the JavaScript loop agree", () => {
  for (const { name, hidden } of MODELS) {
    it(`${name}: the same losses, parameters and gradients, and both learn`, () => {
      const { k, js, kEpoch, jsEpoch, dispose } = pair(hidden);
      const initial = js.parameters().map((p) => p.slice());
      expect(largestDifference(values(k.parameters()), initial)).toBe(0);
      const losses: [number, number][] = [];
      for (let epoch = 0; epoch < 3; epoch++) {
        const jsLoss = jsEpoch();
        const kLoss = kEpoch();
        losses.push([jsLoss, kLoss]);
        // The sum of 10 batch means; ln 10 = 2.30 per batch at the start.
        expect(kLoss / 10).toBeGreaterThan(0.5);
        expect(kLoss / 10).toBeLessThan(3);
        expect(Math.abs(kLoss - jsLoss)).toBeLessThan(1e-6 * jsLoss);
        const diff = modelDifference(k, js);
        expect(diff.parameters).toBeLessThan(1e-5);
        expect(diff.gradients).toBeLessThan(1e-4);
      }
      // The parameters moved, and the loss fell from epoch to epoch.
      expect(largestDifference(initial, js.parameters())).toBeGreaterThan(1e-3);
      expect(losses[1]![1]).toBeLessThan(losses[0]![1]);
      expect(losses[2]![1]).toBeLessThan(losses[1]![1]);
      dispose();
    });
  }

  it("a contender that trains differently is caught", () => {
    // Another shuffle: the same epoch's samples in other batches.
    const shuffled = pair([16], { shuffle: SEEDS.shuffle + 1 });
    shuffled.jsEpoch();
    shuffled.kEpoch();
    expect(modelDifference(shuffled.k, shuffled.js).parameters).toBeGreaterThan(1e-3);
    shuffled.dispose();
    // A learning rate 10% off.
    const fast = pair([16], { learningRate: 1.1e-3 });
    fast.jsEpoch();
    fast.kEpoch();
    expect(modelDifference(fast.k, fast.js).parameters).toBeGreaterThan(1e-3);
    fast.dispose();
  });

  it("the JavaScript model starts as klcore's models do (same seeded initialisation)", () => {
    for (const { hidden } of MODELS) {
      const k = makeModel(hidden);
      const js = new JsMlp({ inputs: SHAPE.inputs, hidden, classes: SHAPE.classes, seed: SEEDS.model });
      expect(largestDifference(values(k.parameters()), js.parameters())).toBe(0);
      k.dispose();
    }
  });
});

describe("the fit suite (bench/suites/fit.mjs)", () => {
  it("times fit() and the hand loop on the same batches, their parameters equal bit for bit", async () => {
    const workload = { samples: 300, inputs: 20, classes: 10, batchSize: 32 };
    const models = [
      { name: "softmax regression", hidden: [] },
      { name: "mlp relu [16]", hidden: [16] },
    ];
    const run = await fitOverhead({ samples: 2, workload, models });
    expect(run.suite).toBe("fit");
    expect(run.workloads.map((w) => w.model)).toEqual(models.map((m) => m.name));
    for (const w of run.workloads) {
      expect(w.fitIdenticalToLoop).toBe(true);
      expect(w.rounds.length).toBe(2);
      expect(w.ratio.median).toBeGreaterThan(0);
    }
    expect(run.targets.map((t) => [t.id, t.threshold, t.atMost])).toEqual([
      ["fit-softmax-overhead", 1 + FIT_OVERHEAD_TARGET, true],
      ["fit-mlp-overhead", 1 + FIT_OVERHEAD_TARGET, true],
    ]);
  });
});
