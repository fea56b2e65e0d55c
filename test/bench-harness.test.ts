// The benchmark checks itself: on a tiny workload of every suite (n = 1000, a 16x10 batch, a small
// training set; 2 samples), every contender runs and gives the float64 reference's value within the
// tolerance of its kind, except the known-wrong ones, which must show their failure in the accuracy
// figures (ml-distance's NaN on inputs with zeros, TF.js's clipped built-in KL); the results have the
// shape the report reads (medians, min, max, same-round ratios); and a contender that computes
// something else (twice the value) stops the suite before any timing, so that a broken contender
// cannot make klcore look good.
import { describe, expect, it } from "vitest";
import { pairedRatio, repsFor, runWorkload, sink, type Summary } from "../bench/harness.mjs";
import { JS_NAME, TF_CPU, TF_WASM, TOLERANCE, verdict, type Row } from "../bench/suites/common.mjs";
import {
  ML,
  SIMD,
  SIMD_NOVALIDATE,
  TF_BUILTIN,
  ZERO_COPY,
  divergences,
} from "../bench/suites/divergences.mjs";
import { FIT, HAND_LOOP, TRAIN_TOLERANCE, train } from "../bench/suites/train.mjs";
import { GRADIENT_TOLERANCE, xent } from "../bench/suites/xent.mjs";

const TINY = { samples: 2, targetMs: 0.2, warmupMs: 2 };
const TINY_TRAINING = { samples: 200, inputs: 32, batchSize: 64 };
const TINY_MODELS = [
  { name: "softmax regression", hidden: [] },
  { name: "mlp [8]", hidden: [8] },
];

function expectSummary(s: Summary): void {
  expect(Number.isFinite(s.median) && s.median > 0).toBe(true);
  expect(s.min).toBeLessThanOrEqual(s.median);
  expect(s.median).toBeLessThanOrEqual(s.max);
}

function expectShape(row: Row, withTf: boolean): void {
  expectSummary(row.nsPerCall);
  expectSummary(row.nsPerElement);
  expectSummary(row.speedupVsJs);
  expect(row.samplesNs).toHaveLength(TINY.samples);
  if (withTf) expectSummary(row.speedupVsTfWasm!);
}

describe("the divergence suite on n = 1000", async () => {
  const run = await divergences({ ...TINY, sizes: [1000] });

  it("runs every contender of every kernel and element type", () => {
    expect(run.workloads.map((w) => `${w.kernel} ${w.dtype}`).sort()).toEqual(
      ["entropy", "jsDivergence", "kl"].flatMap((k) => [`${k} float32`, `${k} float64`]).sort(),
    );
    for (const w of run.workloads) {
      const names = w.contenders.map((c) => c.contender);
      expect(names).toEqual(expect.arrayContaining([JS_NAME, SIMD, ZERO_COPY, TF_CPU, TF_WASM]));
      if (w.kernel === "kl") expect(names).toEqual(expect.arrayContaining([TF_BUILTIN, ML, SIMD_NOVALIDATE]));
      if (w.kernel === "jsDivergence") expect(names).toContain(ML);
      for (const c of w.contenders) expectShape(c, true);
    }
  });

  it("every contender that is not known to be wrong gives the float64 reference's value", () => {
    for (const w of run.workloads) {
      expect(w.zerosInP).toBeGreaterThan(50);
      for (const c of w.contenders) {
        if (c.known) continue;
        const tol = TOLERANCE[c.kind][w.dtype];
        expect(c.relativeError, `${w.kernel} ${w.dtype} ${c.contender}`).toBeLessThanOrEqual(tol);
        // The tolerances are tight enough to mean something: 1e-3 at most (TF.js's float32).
        expect(tol).toBeLessThanOrEqual(1e-3);
      }
      // The baseline and the float64 contenders are float64 arithmetic: within 1e-12 here.
      expect(w.contenders.find((c) => c.contender === JS_NAME)!.relativeError).toBeLessThan(1e-12);
    }
  });

  it("flags the known-wrong contenders: ml-distance's NaN, TF.js's clipping built-in KL", () => {
    for (const w of run.workloads) {
      const ml = w.contenders.find((c) => c.contender === ML);
      if (ml) {
        expect(ml.known).toBe("nan");
        expect(ml.value).toBeNaN();
        expect(ml.relativeError).toBeNaN();
      }
      const builtin = w.contenders.find((c) => c.contender === TF_BUILTIN);
      if (builtin) {
        expect(builtin.known).toBe("clips");
        expect(Number.isFinite(builtin.relativeError)).toBe(true);
      }
    }
    // NaN values are kept out of the sink, which stays finite.
    expect(Number.isFinite(sink())).toBe(true);
  });

  it("reports kl's validation overhead and zero-copy gain as same-round ratios, and the targets it can", () => {
    const kl = run.workloads.filter((w) => w.kernel === "kl");
    for (const w of kl) {
      expectSummary(w.validationOverhead!.simd);
      expectSummary(w.zeroCopyGain!.validated);
      expect(w.rounds).toHaveLength(TINY.samples);
    }
    // n = 1e6 did not run: only the validation-overhead target is judged.
    expect(run.targets.map((t) => t.id)).toEqual(["kl-validation-overhead"]);
  });

  it("stops before timing when a contender gives another value", async () => {
    await expect(
      divergences({
        ...TINY,
        sizes: [1000],
        kernels: ["entropy"],
        dtypes: ["float32"],
        extraContenders: ({ p }) => [
          {
            name: "broken",
            kind: "klcore",
            fn: () => {
              let s = 0;
              for (let i = 0; i < p.length; i++) if (p[i]! > 0) s -= p[i]! * Math.log(p[i]!);
              return 2 * s;
            },
          },
        ],
      }),
    ).rejects.toThrow(/broken gave .* refusing to time/);
  });
});

describe("the crossEntropyWithLogits suite on a 16x10 batch", async () => {
  const run = await xent({ ...TINY, shapes: [[16, 10]] });

  it("every contender gives the reference loss and gradient", () => {
    expect(run.workloads).toHaveLength(2);
    for (const w of run.workloads) {
      expect(w.contenders.map((c) => c.contender)).toEqual(
        expect.arrayContaining([JS_NAME, SIMD, ZERO_COPY, TF_CPU, TF_WASM]),
      );
      for (const c of w.contenders) {
        expectShape(c, true);
        expect(c.relativeError, c.contender).toBeLessThanOrEqual(TOLERANCE[c.kind][w.dtype]);
        const kind = c.kind as keyof typeof GRADIENT_TOLERANCE;
        expect(c.gradientError, c.contender).toBeLessThanOrEqual(GRADIENT_TOLERANCE[kind][w.dtype]);
      }
    }
    // 64x1000 did not run: no verdict on it; 256x10 neither.
    expect(run.targets).toEqual([]);
  });

  it("stops before timing when a contender gives twice the loss", async () => {
    await expect(
      xent({
        ...TINY,
        shapes: [[16, 10]],
        dtypes: ["float64"],
        extraContenders: ({ z, y, rows, classes }) => [
          {
            name: "broken",
            kind: "js",
            fn: () => {
              let total = 0;
              for (let r = 0; r < rows; r++) {
                const row = Array.from(z.subarray(r * classes, (r + 1) * classes));
                const m = Math.max(...row);
                total += m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0)) - row[y[r]!]!;
              }
              return (2 * total) / rows;
            },
          },
        ],
      }),
    ).rejects.toThrow(/broken gave/);
  });
});

describe("the training suite on a small set", async () => {
  const run = await train({ samples: 2, workload: TINY_TRAINING, models: TINY_MODELS });

  it("every contender trains the same epoch from the same weights", () => {
    expect(run.workloads).toHaveLength(2);
    for (const w of run.workloads) {
      expect(w.fitIdenticalToLoop).toBe(true);
      expect(w.contenders.map((c) => c.contender)).toEqual([JS_NAME, FIT, HAND_LOOP, TF_CPU, TF_WASM]);
      for (const c of w.contenders) {
        expectShape(c, true);
        const tol = TRAIN_TOLERANCE[c.kind as keyof typeof TRAIN_TOLERANCE];
        expect(c.parameterDifference, c.contender).toBeLessThanOrEqual(tol.parameters);
        if (c.contender !== FIT) expect(c.lossRelativeDifference!, c.contender).toBeLessThanOrEqual(tol.loss);
      }
      // TF.js did train: its parameters differ from the loop's only by rounding, not by nothing at all.
      expect(w.contenders.find((c) => c.contender === TF_WASM)!.parameterDifference).toBeGreaterThan(0);
    }
    expect(run.targets.map((t) => t.id)).toEqual([
      "train-softmax-vs-tfwasm",
      "train-softmax-vs-js",
      "train-mlp-vs-tfwasm",
      "train-mlp-vs-js",
    ]);
  });

  it("stops before timing when a contender trains differently", async () => {
    await expect(
      train({
        samples: 2,
        workload: TINY_TRAINING,
        models: [TINY_MODELS[0]!],
        // The loop's own parameters, but twice its loss: only the loss check can catch it.
        extraContenders: ({ jsModel }) => [
          { name: "broken", kind: "js", fn: () => 2 * 9.2, parameters: () => jsModel.parameters() },
        ],
      }),
    ).rejects.toThrow(/broken trained differently/);
  });
});

// A call of about a microsecond, and a stall of `ms` (a preempted call, a GC pause).
const smallArray = Float64Array.from({ length: 64 }, (_, i) => i);
function shortWork(): number {
  let s = 0;
  for (let i = 0; i < smallArray.length; i++) s += smallArray[i]!;
  return s;
}
function spin(ms: number): void {
  const t0 = performance.now();
  while (performance.now() - t0 < ms);
}

describe("the harness", () => {
  it("times contenders round-robin and returns medians, ranges and same-round ratios", async () => {
    const xs = Float64Array.from({ length: 4000 }, (_, i) => i);
    const sum = (n: number) => () => {
      let s = 0;
      for (let i = 0; i < n; i++) s += xs[i]!;
      return s;
    };
    let befores = 0;
    const result = await runWorkload({
      name: "sums",
      contenders: [
        { name: "short", fn: sum(1000) },
        { name: "long", fn: sum(4000), before: () => befores++ },
        { name: "async", fn: async () => sum(1000)() },
      ],
      baseline: "short",
      elements: 1000,
      reference: sum(1000)(),
      samples: 3,
      targetMs: 0.5,
      warmupMs: 2,
    });
    expect(result.rounds).toHaveLength(3);
    expect(result.rounds.every((r) => r.length === 3)).toBe(true);
    const [short, long] = result.contenders;
    expect(short!.relativeError).toBe(0);
    expect(long!.relativeError).toBeCloseTo(sum(4000)() / sum(1000)() - 1, 9);
    expect(short!.speedup.median).toBe(1);
    // The same work four times over: slower, whatever the noise, and the ratio says so.
    expect(long!.speedup.median).toBeLessThan(1);
    expect(befores).toBeGreaterThanOrEqual(1 + 3);
    const r = pairedRatio(result, "long", "short");
    expect(r.median).toBeGreaterThan(1);
    expect(r.ofMinimums).toBeGreaterThan(1);
  });

  it("times a short call in batches even when its first call of a sample is slow", async () => {
    // A GC pause or a busy machine on the first call of a sample once made the timer take single
    // calls, which a 5 µs browser clock reads as 0 ns.
    let slowNext = false;
    let calls = 0;
    const fn = () => {
      calls++;
      if (slowNext) {
        slowNext = false;
        spin(1);
      }
      return shortWork();
    };
    const result = await runWorkload({
      name: "slow first call",
      contenders: [
        { name: "plain", fn },
        { name: "slow start", fn, before: () => (slowNext = true) },
      ],
      baseline: "plain",
      samples: 3,
      targetMs: 0.5,
      warmupMs: 2,
    });
    expect(calls).toBeGreaterThan(100);
    for (const c of result.contenders) {
      expect(c.reps).toBeGreaterThanOrEqual(4);
      expect(c.callsPerSample).toHaveLength(3);
      // At least 4 batches of `reps` calls each, never single calls.
      for (const n of c.callsPerSample) expect(n).toBeGreaterThanOrEqual(4 * c.reps);
      expectSummary(c.nsPerCall);
    }
  });

  it("takes a short call stalled during warm-up for a short call, never for one to time alone", async () => {
    // Every 50th call stalls for 3 ms, as a preempted call on a busy machine: the 50th is the last
    // of the warm-up, and sizing by it made the harness time single 1 µs calls, 0 ns on a 5 µs
    // clock. (On average a call takes about 60 µs, far below the 0.5 ms of a call timed alone.)
    let n = 0;
    const fn = () => {
      if (++n % 50 === 0) spin(3);
      return shortWork();
    };
    const result = await runWorkload({
      name: "stalls",
      contenders: [{ name: "stalling", fn }],
      baseline: "stalling",
      samples: 2,
      targetMs: 0.5,
      warmupMs: 2,
    });
    const [c] = result.contenders;
    for (const calls of c!.callsPerSample) expect(calls).toBeGreaterThanOrEqual(4 * c!.reps);
    expect(c!.reps).toBeGreaterThanOrEqual(4);
  });

  it("takes a self-timed contender's samples from its own clock, the pipe's latency left out", async () => {
    // As a contender in another process: each call through fn costs a round trip (here 0.3 ms of
    // spinning), while timed(calls) reports what the calls took there, 20 µs each.
    const timedCalls: number[] = [];
    const result = await runWorkload({
      name: "self-timed",
      contenders: [
        { name: "local", fn: shortWork },
        {
          name: "remote",
          fn: () => {
            spin(0.3);
            return shortWork();
          },
          timed: async (calls: number) => {
            timedCalls.push(calls);
            return calls * 20_000;
          },
        },
      ],
      baseline: "local",
      samples: 3,
      targetMs: 0.5,
      warmupMs: 2,
    });
    const remote = result.contenders[1]!;
    expect(remote.samplesNs).toEqual([20_000, 20_000, 20_000]);
    expect(remote.callsPerSample.every((n) => n === remote.reps)).toBe(true);
    // Calibrated by its own clock: 2 ms of 20 µs calls is 100 per window.
    expect(timedCalls.slice(0, 4)).toEqual([1, 100, 100, 100]);
    expect(remote.reps).toBe(repsFor(0.02, 2));
  });

  it("judges a target with its shortfall", () => {
    expect(verdict({ id: "a", description: "", value: 8.1, threshold: 9 })).toMatchObject({
      met: false,
      shortfall: expect.closeTo(0.1, 10),
    });
    expect(verdict({ id: "b", description: "", value: 9.5, threshold: 9 })).toMatchObject({
      met: true,
      shortfall: 0,
    });
    expect(verdict({ id: "c", description: "", value: 1.12, threshold: 1.1, atMost: true }).met).toBe(false);
  });
});
