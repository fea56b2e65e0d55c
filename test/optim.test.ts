// Optimisers: each update rule's first steps against torch.optim's documented pseudo-code written
// here in float64 (itself checked against numbers computed by hand), every option, both builds
// bit-identical at every vector tail, schedules, gradient clipping, every error (nothing updated
// after one), and state freed by reset() and dispose().
import { describe, expect, it } from "vitest";
import * as klcore from "../dist/index.js";
import {
  adagrad,
  adam,
  clipGradNorm,
  cosineSchedule,
  createInstanceSync,
  rmsprop,
  sgd,
  stepSchedule,
  type Klcore,
  type Optimizer,
  type WasmArray,
} from "../dist/index.js";
import { rng } from "./helpers/fixtures.js";

const simd = createInstanceSync({ simd: true });
const scalar = createInstanceSync({ simd: false });
const builds: [string, Klcore][] = [
  ["simd", simd],
  ["scalar", scalar],
];

type RuleName = "sgd" | "adam" | "rmsprop" | "adagrad";
type Opts = Record<string, number | boolean | ((step: number) => number)>;
const makers: Record<RuleName, (o: Opts) => Optimizer> = {
  sgd: (o) => sgd(o),
  adam: (o) => adam(o),
  rmsprop: (o) => rmsprop(o),
  adagrad: (o) => adagrad(o),
};
const DEFAULT_LR: Record<RuleName, number> = { sgd: 1e-3, adam: 1e-3, rmsprop: 1e-2, adagrad: 1e-2 };

const num = (o: Opts, key: string, fallback: number): number => (o[key] as number | undefined) ?? fallback;
const bool = (o: Opts, key: string): boolean => (o[key] as boolean | undefined) ?? false;

/**
 * torch.optim's pseudo-code, in float64: the parameters after each step, given the gradient of each
 * step. Written from the documentation's algorithm boxes, not from the kernels' factoring.
 */
function reference(
  rule: RuleName,
  o: Opts,
  p0: ArrayLike<number>,
  grads: ArrayLike<number>[],
): Float64Array[] {
  const n = p0.length;
  const p = Float64Array.from(p0);
  const a = new Float64Array(n); // momentum buffer b, first moment m, square average v, state sum
  const b = new Float64Array(n); // second moment v, gradient average g_ave
  const c = new Float64Array(n); // rmsprop's momentum buffer
  const out: Float64Array[] = [];
  const rate = o.learningRate ?? DEFAULT_LR[rule];
  const wd = num(o, "weightDecay", rule === "adam" && bool(o, "decoupled") ? 1e-2 : 0);
  if (rule === "adagrad") a.fill(num(o, "initialAccumulatorValue", 0));
  for (let t = 1; t <= grads.length; t++) {
    const lr = typeof rate === "function" ? rate(t - 1) : (rate as number);
    const grad = grads[t - 1]!;
    for (let i = 0; i < n; i++) {
      let g = grad[i]!;
      if (rule === "sgd") {
        const mu = num(o, "momentum", 0);
        const tau = num(o, "dampening", 0);
        if (wd !== 0) g = g + wd * p[i]!;
        if (mu !== 0) {
          a[i] = t > 1 ? mu * a[i]! + (1 - tau) * g : g;
          g = bool(o, "nesterov") ? g + mu * a[i]! : a[i]!;
        }
        p[i] = p[i]! - lr * g;
      } else if (rule === "adam") {
        const b1 = num(o, "beta1", 0.9);
        const b2 = num(o, "beta2", 0.999);
        const eps = num(o, "epsilon", 1e-8);
        if (bool(o, "decoupled")) p[i] = p[i]! - lr * wd * p[i]!;
        else if (wd !== 0) g = g + wd * p[i]!;
        a[i] = b1 * a[i]! + (1 - b1) * g;
        b[i] = b2 * b[i]! + (1 - b2) * g * g;
        const mHat = a[i]! / (1 - b1 ** t);
        const vHat = b[i]! / (1 - b2 ** t);
        p[i] = p[i]! - (lr * mHat) / (Math.sqrt(vHat) + eps);
      } else if (rule === "rmsprop") {
        const alpha = num(o, "alpha", 0.99);
        const eps = num(o, "epsilon", 1e-8);
        const mu = num(o, "momentum", 0);
        if (wd !== 0) g = g + wd * p[i]!;
        a[i] = alpha * a[i]! + (1 - alpha) * g * g;
        let v = a[i]!;
        if (bool(o, "centered")) {
          b[i] = b[i]! * alpha + (1 - alpha) * g;
          v = v - b[i]! * b[i]!;
        }
        if (mu > 0) {
          c[i] = mu * c[i]! + g / (Math.sqrt(v) + eps);
          p[i] = p[i]! - lr * c[i]!;
        } else {
          p[i] = p[i]! - (lr * g) / (Math.sqrt(v) + eps);
        }
      } else {
        const eps = num(o, "epsilon", 1e-10);
        const clr = lr / (1 + (t - 1) * num(o, "learningRateDecay", 0));
        if (wd !== 0) g = g + wd * p[i]!;
        a[i] = a[i]! + g * g;
        p[i] = p[i]! - (clr * g) / (Math.sqrt(a[i]!) + eps);
      }
    }
    out.push(p.slice());
  }
  return out;
}

/** The parameters after each step of the optimiser, in instance k. */
function run(k: Klcore, opt: Optimizer, p0: ArrayLike<number>, grads: ArrayLike<number>[]): Float32Array[] {
  const n = p0.length;
  const p = k.alloc("float32", n);
  const g = k.alloc("float32", n);
  p.array.set(p0);
  const out: Float32Array[] = [];
  for (const gs of grads) {
    g.array.set(gs);
    opt.step([p], [g]);
    out.push(p.array.slice());
  }
  opt.dispose();
  p.free();
  g.free();
  return out;
}

function randomF32(n: number, r: () => number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * (2 * r() - 1);
  return a;
}

/** float32 results within a few float32 roundings of the float64 reference. */
function expectNear(got: ArrayLike<number>, want: ArrayLike<number>, label: string, tol = 2e-6): void {
  expect(got.length, label).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const ok = Math.abs(got[i]! - w) <= tol * (1 + Math.abs(w));
    if (!ok) expect(got[i], `${label} [${i}]`).toBe(w);
  }
}

// Every option of every rule, alone and combined.
const CASES: [RuleName, Opts][] = [
  ["sgd", {}],
  ["sgd", { learningRate: 0.1 }],
  ["sgd", { learningRate: 0.1, weightDecay: 0.1 }],
  ["sgd", { learningRate: 0.1, momentum: 0.9 }],
  ["sgd", { learningRate: 0.1, momentum: 0.9, dampening: 0.3 }],
  ["sgd", { learningRate: 0.1, momentum: 0.9, nesterov: true }],
  ["sgd", { learningRate: 0.05, momentum: 0.5, nesterov: true, weightDecay: 0.01 }],
  ["adam", {}],
  ["adam", { learningRate: 0.1 }],
  ["adam", { learningRate: 0.1, beta1: 0.8, beta2: 0.99, epsilon: 1e-3 }],
  ["adam", { learningRate: 0.1, beta1: 0, beta2: 0 }],
  ["adam", { learningRate: 0.1, weightDecay: 0.1 }],
  ["adam", { learningRate: 0.1, decoupled: true }],
  ["adam", { learningRate: 0.1, weightDecay: 0.2, decoupled: true }],
  ["adam", { learningRate: 0.1, weightDecay: 0, decoupled: true }],
  ["rmsprop", {}],
  ["rmsprop", { learningRate: 0.01, alpha: 0.9, epsilon: 1e-6 }],
  ["rmsprop", { learningRate: 0.01, weightDecay: 0.1 }],
  ["rmsprop", { learningRate: 0.01, momentum: 0.9 }],
  ["rmsprop", { learningRate: 0.01, centered: true }],
  ["rmsprop", { learningRate: 0.01, centered: true, momentum: 0.5, weightDecay: 0.05, alpha: 0.8 }],
  ["adagrad", {}],
  ["adagrad", { learningRate: 0.1 }],
  ["adagrad", { learningRate: 0.1, learningRateDecay: 0.5 }],
  ["adagrad", { learningRate: 0.1, weightDecay: 0.1, epsilon: 1e-3 }],
  ["adagrad", { learningRate: 0.1, initialAccumulatorValue: 0.5 }],
];

const LENGTHS = [...Array.from({ length: 15 }, (_, i) => i + 1), 1000];

describe("the reference matches numbers computed by hand (p = 1, g = 0.5)", () => {
  const one = (rule: RuleName, o: Opts, steps = 1): number[] =>
    reference(
      rule,
      o,
      [1],
      Array.from({ length: steps }, () => [0.5]),
    ).map((p) => p[0]!);

  it("sgd", () => {
    // 1 - 0.1 (0.5 + 0.1 * 1)
    expect(one("sgd", { learningRate: 0.1, weightDecay: 0.1 })[0]).toBeCloseTo(0.94, 15);
    // Nesterov, first step: b = g, so g + 0.9 g = 0.95
    expect(one("sgd", { learningRate: 0.1, momentum: 0.9, nesterov: true })[0]).toBeCloseTo(0.905, 15);
    // Momentum, second step: b = 0.9 * 0.5 + 0.5 = 0.95 from p = 0.95
    expect(one("sgd", { learningRate: 0.1, momentum: 0.9 }, 2)[1]).toBeCloseTo(0.855, 15);
    // Dampening 0.5, second step: b = 0.45 + 0.25 = 0.7
    expect(one("sgd", { learningRate: 0.1, momentum: 0.9, dampening: 0.5 }, 2)[1]).toBeCloseTo(0.88, 15);
  });

  it("adam and adamw", () => {
    // The bias-corrected step of a constant gradient is lr g / (|g| + eps) at every step.
    const steps = one("adam", { learningRate: 0.1 }, 3);
    expect(steps[0]).toBeCloseTo(1 - 0.1 * (0.5 / (0.5 + 1e-8)), 15);
    expect(steps[0]).toBeCloseTo(0.9, 7);
    expect(steps[2]).toBeCloseTo(0.7, 7);
    // AdamW: 1 - 0.1 * 0.1 * 1 = 0.99, then - 0.1
    expect(one("adam", { learningRate: 0.1, weightDecay: 0.1, decoupled: true })[0]).toBeCloseTo(0.89, 7);
  });

  it("rmsprop", () => {
    // v = 0.01 * 0.25: sqrt(v) = 0.05, so the step is 0.01 * 0.5 / 0.05 = 0.1
    expect(one("rmsprop", {})[0]).toBeCloseTo(0.9, 6);
    // centered: v - (0.01 * 0.5)^2 = 0.002475, 0.01 * 0.5 / (sqrt(0.002475) + 1e-8) = 0.1005037613
    expect(one("rmsprop", { centered: true })[0]).toBeCloseTo(0.8994962387, 9);
  });

  it("adagrad", () => {
    expect(one("adagrad", {})[0]).toBeCloseTo(0.99, 9);
    // Second step with decay 0.5: s = 0.5, clr = 0.01 / 1.5, 0.5 / sqrt(0.5) = 0.7071067812
    expect(one("adagrad", { learningRateDecay: 0.5 }, 2)[1]).toBeCloseTo(
      0.99 - (0.01 / 1.5) * 0.7071067812,
      9,
    );
    // s = 0.5 + 0.25: 1 - 0.01 * 0.5 / sqrt(0.75) = 0.9942264973
    expect(one("adagrad", { initialAccumulatorValue: 0.5 })[0]).toBeCloseTo(0.9942264973, 9);
  });
});

describe("update rules: three steps against the reference, both builds bit-identical", () => {
  for (const [rule, o] of CASES) {
    it(`${rule} ${JSON.stringify(o)}`, () => {
      for (const n of LENGTHS) {
        const r = rng(1000 * n + 7);
        const p0 = randomF32(n, r);
        const grads = [randomF32(n, r), randomF32(n, r), randomF32(n, r)];
        const want = reference(rule, o, p0, grads);
        const got = run(simd, makers[rule](o), p0, grads);
        const gotScalar = run(scalar, makers[rule](o), p0, grads);
        for (let t = 0; t < 3; t++) {
          expectNear(got[t]!, want[t]!, `${rule} n=${n} step ${t + 1}`);
          expect(gotScalar[t], `scalar n=${n} step ${t + 1}`).toEqual(got[t]);
        }
      }
    });
  }

  it("the literal cases through the kernels: p = 1, g = 0.5", () => {
    for (const [, k] of builds) {
      expect(run(k, sgd({ learningRate: 0.1, weightDecay: 0.1 }), [1], [[0.5]])[0]![0]).toBeCloseTo(0.94, 7);
      const a = run(k, adam({ learningRate: 0.1 }), [1], [[0.5], [0.5], [0.5]]);
      expect(a.map((p) => p[0])).toEqual([
        expect.closeTo(0.9, 6),
        expect.closeTo(0.8, 6),
        expect.closeTo(0.7, 6),
      ]);
      expect(run(k, rmsprop({ centered: true }), [1], [[0.5]])[0]![0]).toBeCloseTo(0.8994962387, 6);
      expect(run(k, adagrad({ initialAccumulatorValue: 0.5 }), [1], [[0.5]])[0]![0]).toBeCloseTo(
        0.9942264973,
        7,
      );
    }
  });

  it("a step takes nothing from the engine's Math: Adam's bias corrections are computed in wasm", () => {
    const r = rng(11);
    const p0 = randomF32(13, r);
    const grads = [randomF32(13, r), randomF32(13, r), randomF32(13, r)];
    const makeAll = () => [
      sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.1 }),
      adam({ learningRate: 0.1 }),
      adam({ decoupled: true }),
      rmsprop({ centered: true, momentum: 0.5 }),
      adagrad({ learningRateDecay: 0.5 }),
    ];
    const want = makeAll().map((o) => run(simd, o, p0, grads));
    const saved = { pow: Math.pow, sqrt: Math.sqrt, exp: Math.exp, log: Math.log };
    const refuse = (name: string) => () => {
      throw new Error(`Math.${name} called during a step`);
    };
    try {
      Object.assign(Math, {
        pow: refuse("pow"),
        sqrt: refuse("sqrt"),
        exp: refuse("exp"),
        log: refuse("log"),
      });
      const got = makeAll().map((o) => run(simd, o, p0, grads));
      expect(got).toEqual(want);
    } finally {
      Object.assign(Math, saved);
    }
  });

  it("AdamW's default weight decay is PyTorch's 1e-2", () => {
    const r = rng(3);
    const p0 = randomF32(9, r);
    const grads = [randomF32(9, r), randomF32(9, r)];
    expect(run(simd, adam({ decoupled: true }), p0, grads)).toEqual(
      run(simd, adam({ decoupled: true, weightDecay: 1e-2 }), p0, grads),
    );
  });

  it("several parameter arrays in one step, each with its own state", () => {
    for (const [name, k] of builds) {
      const r = rng(11);
      const sizes = [3, 17, 1, 64];
      const p0 = sizes.map((n) => randomF32(n, r));
      const gs = [0, 1, 2].map(() => sizes.map((n) => randomF32(n, r)));
      const params = sizes.map((n, i) => {
        const a = k.alloc("float32", n);
        a.array.set(p0[i]!);
        return a;
      });
      const grads = sizes.map((n) => k.alloc("float32", n));
      const o = { learningRate: 0.05, momentum: 0.9, centered: true };
      const opt = rmsprop(o);
      for (let t = 0; t < 3; t++) {
        grads.forEach((g, i) => g.array.set(gs[t]![i]!));
        opt.step(params, grads);
      }
      expect(opt.stepCount).toBe(3);
      params.forEach((p, i) => {
        const want = reference("rmsprop", o, p0[i]!, [gs[0]![i]!, gs[1]![i]!, gs[2]![i]!])[2]!;
        expectNear(p.array, want, `${name} array ${i}`);
      });
      opt.dispose();
      [...params, ...grads].forEach((a) => a.free());
    }
  });

  it("gradients are read, never written", () => {
    const p = simd.alloc("float32", 13);
    const g = simd.alloc("float32", 13);
    g.array.set(randomF32(13, rng(5)));
    const before = g.array.slice();
    for (const make of [
      () => sgd({ momentum: 0.9, weightDecay: 0.1 }),
      () => adam({ weightDecay: 0.1 }),
      () => rmsprop({ weightDecay: 0.1 }),
      () => adagrad({ weightDecay: 0.1 }),
    ]) {
      const opt = make();
      opt.step([p], [g]);
      opt.step([p], [g]);
      opt.dispose();
    }
    expect(g.array).toEqual(before);
    p.free();
    g.free();
  });
});

describe("learning rates and schedules", () => {
  it("stepSchedule is StepLR: initial * gamma^floor(step / stepSize)", () => {
    const s = stepSchedule({ initial: 0.1, gamma: 0.5, stepSize: 3 });
    expect([0, 1, 2, 3, 4, 5, 6, 7, 30].map(s)).toEqual([
      0.1,
      0.1,
      0.1,
      0.05,
      0.05,
      0.05,
      0.025,
      0.025,
      0.1 * 0.5 ** 10,
    ]);
    expect(stepSchedule({ initial: 1, stepSize: 1 })(2)).toBeCloseTo(0.01, 15); // gamma 0.1 by default
  });

  it("cosineSchedule is CosineAnnealingLR's closed form", () => {
    const s = cosineSchedule({ initial: 1, minimum: 0.1, steps: 10 });
    expect(s(0)).toBe(1);
    // 0.1 + 0.9 (1 + cos(pi / 10)) / 2
    expect(s(1)).toBeCloseTo(0.9779754323, 10);
    expect(s(5)).toBeCloseTo(0.55, 15);
    expect(s(10)).toBeCloseTo(0.1, 15);
    expect(s(20)).toBeCloseTo(1, 15); // the cosine goes on past `steps`, as PyTorch's
    expect(cosineSchedule({ initial: 2, steps: 4 })(4)).toBeCloseTo(0, 15); // minimum 0 by default
  });

  it("an optimiser asks its schedule for the step count, and learningRate reports the next rate", () => {
    const s = stepSchedule({ initial: 0.1, gamma: 0.5, stepSize: 2 });
    const r = rng(21);
    const p0 = randomF32(10, r);
    const grads = [0, 1, 2, 3].map(() => randomF32(10, r));
    for (const rule of ["sgd", "adam", "rmsprop", "adagrad"] as const) {
      const o = { learningRate: s };
      expectNear(run(simd, makers[rule](o), p0, grads)[3]!, reference(rule, o, p0, grads)[3]!, rule);
    }
    const seen: number[] = [];
    const opt = sgd({
      learningRate: (t) => {
        seen.push(t);
        return 0.1;
      },
    });
    const p = simd.alloc("float32", 4);
    const g = simd.alloc("float32", 4);
    opt.step([p], [g]);
    opt.step([p], [g]);
    expect(seen).toEqual([0, 1]);
    const cos = cosineSchedule({ initial: 1, steps: 4 });
    const opt2 = adam({ learningRate: cos });
    expect(opt2.learningRate).toBe(1);
    opt2.step([p], [g]);
    expect(opt2.learningRate).toBe(cos(1));
    expect(adam().learningRate).toBe(1e-3);
    expect(sgd({ learningRate: 0.5 }).learningRate).toBe(0.5);
    opt.dispose();
    opt2.dispose();
    p.free();
    g.free();
  });
});

describe("clipGradNorm", () => {
  it("returns the norm and scales by maxNorm / (norm + 1e-6) when that is < 1 (PyTorch)", () => {
    for (const [, k] of builds) {
      const a = k.alloc("float32", 2);
      const b = k.alloc("float32", 1);
      a.array.set([3, 4]);
      b.array.set([12]);
      expect(clipGradNorm([a, b], 20)).toBe(13);
      expect([...a.array, ...b.array]).toEqual([3, 4, 12]);
      expect(clipGradNorm([a, b], 13)).toBe(13); // 13 / (13 + 1e-6) < 1: scaled, as PyTorch does
      const coef = 13 / (13 + 1e-6);
      expect([...a.array, ...b.array]).toEqual([3, 4, 12].map((x) => Math.fround(x * Math.fround(coef))));
      a.array.set([3, 4]);
      b.array.set([12]);
      expect(clipGradNorm([a, b], 6.5)).toBe(13);
      const half = Math.fround(6.5 / (13 + 1e-6));
      expect([...a.array, ...b.array]).toEqual([3, 4, 12].map((x) => Math.fround(x * half)));
      expect(clipGradNorm(a, Infinity)).toBeCloseTo(2.5, 6); // one array; Infinity measures only
      expect(clipGradNorm(a, 0)).toBeCloseTo(2.5, 6);
      expect([...a.array]).toEqual([0, 0]);
      a.free();
      b.free();
    }
  });

  it("every length: the norm within 1e-12 of float64, both builds the same bits", () => {
    for (const n of [...LENGTHS, 0, 100_003]) {
      const x = randomF32(n, rng(n + 1), 3);
      let sum = 0;
      for (const v of x) sum += v * v;
      const norms = builds.map(([, k]) => {
        const g = k.alloc("float32", n);
        g.array.set(x);
        const norm = clipGradNorm([g], 1);
        const scaled = g.array.slice();
        g.free();
        return { norm, scaled };
      });
      expect(Math.abs(norms[0]!.norm - Math.sqrt(sum))).toBeLessThanOrEqual(1e-12 * Math.sqrt(sum));
      expect(norms[1]!.norm).toBe(norms[0]!.norm);
      expect(norms[1]!.scaled).toEqual(norms[0]!.scaled);
      if (n > 0 && n <= 1000) {
        const c = Math.fround(1 / (norms[0]!.norm + 1e-6));
        expect(norms[0]!.scaled).toEqual(x.map((v) => Math.fround(v * c)));
      }
    }
  });

  it("a non-finite norm is a RangeError and the gradients stay as they were", () => {
    const g = simd.alloc("float32", 5);
    for (const bad of [NaN, Infinity, -Infinity]) {
      g.array.set([1, 2, bad, 3, 4]);
      expect(() => clipGradNorm([g], 1)).toThrow(RangeError);
      expect(() => clipGradNorm([g], 1)).toThrow(/total norm of the gradients is (NaN|Infinity)/);
      expect([...g.array]).toEqual([1, 2, bad, 3, 4]);
    }
    g.free();
  });
});

describe("errors", () => {
  it("options: unknown names, wrong types, out of range; each names the option and value", () => {
    const type: [() => unknown, RegExp][] = [
      [() => sgd({ lr: 0.1 } as never), /sgd: unknown option 'lr'/],
      [() => adam({ betas: [0.9, 0.99] } as never), /adam: unknown option 'betas'/],
      [() => rmsprop({ eps: 1 } as never), /rmsprop: unknown option 'eps'/],
      [() => adagrad({ lrDecay: 1 } as never), /adagrad: unknown option 'lrDecay'/],
      [() => sgd(5 as never), /options must be an object; got 5/],
      [() => sgd({ learningRate: "0.1" as never }), /learningRate must be a number or a function.*got "0.1"/],
      [() => sgd({ momentum: "0.9" as never }), /momentum must be a number; got "0.9"/],
      [() => sgd({ nesterov: 1 as never }), /nesterov must be a boolean; got 1/],
      [() => adam({ decoupled: "yes" as never }), /decoupled must be a boolean/],
      [() => adam({ beta1: null as never }), /beta1 must be a number; got null/],
      [() => rmsprop({ centered: 0 as never }), /centered must be a boolean/],
      [() => adagrad({ initialAccumulatorValue: "1" as never }), /initialAccumulatorValue must be a number/],
      [() => stepSchedule({ stepSize: 2 } as never), /stepSchedule: the option initial is required/],
      [() => stepSchedule({ initial: 1 } as never), /stepSchedule: the option stepSize is required/],
      [() => cosineSchedule({ initial: 1 } as never), /cosineSchedule: the option steps is required/],
      [() => cosineSchedule({ initial: 1, steps: 2, min: 0 } as never), /unknown option 'min'/],
      [() => clipGradNorm([], "1" as never), /grads must not be empty/],
    ];
    for (const [f, re] of type) {
      expect(f).toThrow(re);
    }
    for (const [f] of type.slice(0, -1)) expect(f).toThrow(TypeError);
    const range: [() => unknown, RegExp][] = [
      [() => sgd({ learningRate: -0.1 }), /learningRate must be a finite number >= 0; got -0.1/],
      [() => sgd({ learningRate: NaN }), /learningRate must be a finite number >= 0; got NaN/],
      [() => adam({ learningRate: Infinity }), /learningRate must be a finite number >= 0; got Infinity/],
      [() => sgd({ momentum: -1 }), /momentum must be a finite number >= 0; got -1/],
      [() => sgd({ dampening: 1.5 }), /dampening must be a number in \[0, 1\]; got 1.5/],
      [() => sgd({ weightDecay: -1e-3 }), /weightDecay must be a finite number >= 0; got -0.001/],
      [() => sgd({ nesterov: true }), /nesterov needs momentum > 0 and dampening 0; got momentum 0/],
      [() => sgd({ nesterov: true, momentum: 0.9, dampening: 0.1 }), /dampening 0.1/],
      [() => adam({ beta1: 1 }), /beta1 must be a number in \[0, 1\); got 1/],
      [() => adam({ beta2: -0.5 }), /beta2 must be a number in \[0, 1\); got -0.5/],
      [() => adam({ epsilon: -1 }), /epsilon must be a finite number >= 0; got -1/],
      [() => adam({ weightDecay: NaN, decoupled: true }), /weightDecay .* got NaN/],
      [() => rmsprop({ alpha: 1.01 }), /alpha must be a number in \[0, 1\]; got 1.01/],
      [() => rmsprop({ momentum: Infinity }), /momentum must be a finite number >= 0; got Infinity/],
      [() => rmsprop({ epsilon: NaN }), /epsilon .* got NaN/],
      [() => rmsprop({ weightDecay: -2 }), /weightDecay .* got -2/],
      [() => adagrad({ learningRateDecay: -1 }), /learningRateDecay must be a finite number >= 0; got -1/],
      [() => adagrad({ initialAccumulatorValue: -1 }), /initialAccumulatorValue .* got -1/],
      [() => adagrad({ epsilon: Infinity }), /epsilon .* got Infinity/],
      [() => adagrad({ weightDecay: -1 }), /weightDecay .* got -1/],
      [() => stepSchedule({ initial: -1, stepSize: 1 }), /initial must be a finite number >= 0; got -1/],
      [() => stepSchedule({ initial: 1, stepSize: 1.5 }), /stepSize must be a positive integer; got 1.5/],
      [() => stepSchedule({ initial: 1, stepSize: 0 }), /stepSize must be a positive integer; got 0/],
      [() => stepSchedule({ initial: 1, stepSize: 1, gamma: -1 }), /gamma .* got -1/],
      [() => cosineSchedule({ initial: 1, steps: -3 }), /steps must be a positive integer; got -3/],
      [() => cosineSchedule({ initial: 1, steps: 3, minimum: NaN }), /minimum .* got NaN/],
      [
        () => stepSchedule({ initial: 1, stepSize: 1 })(-1),
        /schedule's step must be an integer >= 0; got -1/,
      ],
      [() => cosineSchedule({ initial: 1, steps: 3 })(0.5), /step must be an integer >= 0; got 0.5/],
    ];
    for (const [f, re] of range) {
      expect(f).toThrow(RangeError);
      expect(f).toThrow(re);
    }
  });

  it("step: bad arrays are refused before anything is updated", () => {
    const p = simd.alloc("float32", 4);
    const g = simd.alloc("float32", 4);
    const short = simd.alloc("float32", 3);
    const f64 = simd.alloc("float64", 4);
    const other = scalar.alloc("float32", 4);
    const freed = simd.alloc("float32", 4);
    freed.free();
    p.array.set([1, 2, 3, 4]);
    g.array.set([1, 1, 1, 1]);
    const opt = adam({ learningRate: 0.1 });
    const cases: [
      unknown,
      unknown,
      ErrorConstructor | RangeErrorConstructor | TypeErrorConstructor,
      RegExp,
    ][] = [
      [p, [g], TypeError, /params must be an array of float32 WasmArrays; got WasmArray/],
      [[p], "g", TypeError, /grads must be an array of float32 WasmArrays; got "g"/],
      [[], [], RangeError, /params must not be empty/],
      [[p], [g, g], RangeError, /one array per parameter array; got 1 params and 2 grads/],
      [[new Float32Array(4)], [g], TypeError, /params\[0\] must be a float32 WasmArray.*got Float32Array/],
      [[p], [f64], TypeError, /grads\[0\] must be a float32 WasmArray.*got a float64 WasmArray/],
      [[p, f64], [g, g], TypeError, /params\[1\] must be a float32 WasmArray/],
      [[p], [short], RangeError, /params\[0\] and grads\[0\] must have the same length; got 4 and 3/],
      [[p], [freed], Error, /freed/],
      [[p], [other], TypeError, /grads\[0\] belongs to another klcore instance than params\[0\]/],
      [[p, other], [g, g], TypeError, /params\[1\] belongs to another klcore instance than params\[0\]/],
      [[p, p], [g, g], TypeError, /params\[1\] is the same array as params\[0\]/],
    ];
    for (const [ps, gs, kind, re] of cases) {
      expect(() => opt.step(ps as WasmArray<"float32">[], gs as WasmArray<"float32">[])).toThrow(kind);
      expect(() => opt.step(ps as WasmArray<"float32">[], gs as WasmArray<"float32">[])).toThrow(re);
    }
    expect(opt.stepCount).toBe(0);
    expect([...p.array]).toEqual([1, 2, 3, 4]);

    // After the first step the optimiser is bound to those arrays, in that order.
    opt.step([p], [g]);
    const after = p.array.slice();
    const q = simd.alloc("float32", 4);
    expect(() => opt.step([q], [g])).toThrow(/params\[0\] is not the array updated there before.*reset\(\)/);
    expect(() => opt.step([p, q], [g, g])).toThrow(/params has 2 arrays, not the 1 of the first step/);
    expect(opt.stepCount).toBe(1);
    expect(p.array).toEqual(after);
    opt.reset();
    expect(opt.stepCount).toBe(0);
    opt.step([q], [g]); // rebound after reset()
    expect(opt.stepCount).toBe(1);
    opt.dispose();
    opt.dispose(); // a no-op
    expect(() => opt.step([q], [g])).toThrow(/this optimizer was disposed/);
    expect(() => opt.reset()).toThrow(/this optimizer was disposed/);
    for (const a of [p, g, short, f64, other, q]) a.free();
  });

  it("a schedule that throws or returns a bad rate stops the step before any update", () => {
    const p = simd.alloc("float32", 3);
    const g = simd.alloc("float32", 3);
    p.array.set([1, 2, 3]);
    g.array.set([1, 1, 1]);
    for (const bad of [NaN, -1, Infinity, "0.1"]) {
      const opt = sgd({ learningRate: () => bad as number });
      expect(() => opt.step([p], [g])).toThrow(RangeError);
      expect(() => opt.step([p], [g])).toThrow(/learningRate\(0\) must return a finite number >= 0/);
      expect(() => opt.learningRate).toThrow(RangeError);
      expect(opt.stepCount).toBe(0);
      opt.dispose();
    }
    const opt = adam({
      learningRate: () => {
        throw new Error("schedule failed");
      },
    });
    expect(() => opt.step([p], [g])).toThrow(/schedule failed/);
    expect([...p.array]).toEqual([1, 2, 3]);
    p.free();
    g.free();
  });

  it("clipGradNorm: bad arguments", () => {
    const g = simd.alloc("float32", 2);
    const other = scalar.alloc("float32", 2);
    expect(() => clipGradNorm("g" as never, 1)).toThrow(TypeError);
    expect(() => clipGradNorm([new Float32Array(2)] as never, 1)).toThrow(
      /grads\[0\] must be a float32 WasmArray/,
    );
    expect(() => clipGradNorm([g, other], 1)).toThrow(
      /grads\[1\] belongs to another klcore instance than grads\[0\]/,
    );
    expect(() => clipGradNorm([g], "1" as never)).toThrow(TypeError);
    expect(() => clipGradNorm([g], "1" as never)).toThrow(/maxNorm must be a number; got "1"/);
    expect(() => clipGradNorm([g], -1)).toThrow(RangeError);
    expect(() => clipGradNorm([g], NaN)).toThrow(/maxNorm must be a number >= 0.*got NaN/);
    g.free();
    other.free();
  });
});

describe("memory", () => {
  it("state is freed by dispose() and reset(): memory stays flat over many cycles", () => {
    const k = createInstanceSync();
    const n = 1 << 18; // 1 MiB per state array
    const p = k.alloc("float32", n);
    const g = k.alloc("float32", n);
    g.array.fill(0.01);
    const cycle = (): void => {
      for (const make of [
        () => sgd({ momentum: 0.9 }),
        () => adam(),
        () => rmsprop({ centered: true, momentum: 0.9 }),
        () => adagrad(),
      ]) {
        const opt = make();
        opt.step([p], [g]);
        opt.reset();
        opt.step([p], [g]);
        opt.dispose();
      }
    };
    cycle();
    const bytes = k.backend().memoryBytes;
    for (let i = 0; i < 40; i++) cycle(); // 40 * (1 + 2 + 3 + 1) * 2 MiB if nothing were freed
    expect(k.backend().memoryBytes).toBe(bytes);
    expect(Object.keys(klcore)).toEqual(expect.arrayContaining(["sgd", "adam", "rmsprop", "adagrad"]));
    p.free();
    g.free();
  });

  it("the state lives in the parameters' instance: memory grows there, params' views stay valid", () => {
    const k = createInstanceSync({ simd: false });
    const before = k.backend().memoryBytes;
    const n = 1 << 20;
    const p = k.alloc("float32", n);
    const g = k.alloc("float32", n);
    p.array.fill(1);
    g.array.fill(0.5);
    const opt = adam({ learningRate: 0.1 });
    opt.step([p], [g]); // 8 MiB of state: memory grows
    expect(k.backend().memoryBytes).toBeGreaterThan(before + 3 * 4 * n - 1);
    expect(p.array[n - 1]).toBeCloseTo(0.9, 6);
    opt.dispose();
    p.free();
    g.free();
  });
});
