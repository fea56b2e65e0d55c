// fit({ workers }): data-parallel training in worker threads. The history and the parameters are
// the same bits for every worker count, and the same as fit's without workers (each row and each
// gradient element is the same arithmetic, whichever thread computes it), in both builds, for hard
// and soft targets, short last batches and batches of fewer rows than threads;
// the option is checked; a worker that throws or exits rejects fit with a clear error, the model
// keeping its last step's parameters and staying usable; aborting stops training; and a process
// whose fit failed or was aborted exits by itself (no worker left running).
import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  createInstanceSync,
  fit,
  type EpochStats,
  type FitOptions,
  type FitResult,
  type Klcore,
  type Model,
} from "../dist/index.js";
import { rng } from "./helpers/fixtures.js";
import { workerCounts, workers as workersSuite } from "../bench/suites/workers.mjs";

const builds: [string, Klcore][] = [
  ["simd", createInstanceSync({ simd: true })],
  ["scalar", createInstanceSync({ simd: false })],
];

const INPUTS = 6;
const CLASSES = 3;
const ROWS = 203;

const r = rng(11);
const x = Float32Array.from({ length: ROWS * INPUTS }, () => 2 * r() - 1);
const labels = Int32Array.from({ length: ROWS }, (_, i) =>
  x[i * INPUTS]! + x[i * INPUTS + 1]! > 0.3 ? 2 : x[i * INPUTS + 2]! > 0 ? 1 : 0,
);
const soft = Float32Array.from({ length: ROWS * CLASSES }, (_, i) => {
  const row = Math.floor(i / CLASSES);
  return labels[row] === i % CLASSES ? 0.8 : 0.1;
});

const bits = (m: Model): number[][] =>
  m.parameters().map((p) => Array.from(new Uint32Array(p.array.slice().buffer)));

const timeless = (h: EpochStats[]): Partial<EpochStats>[] =>
  h.map((s) => {
    const copy: Partial<EpochStats> = { ...s };
    delete copy.time;
    return copy;
  });

interface Case {
  name: string;
  model: (k: Klcore) => Model;
  /** Features; null for categorical. */
  x?: null;
  y: Int32Array | Float32Array;
  options: FitOptions;
}

const CASES: Case[] = [
  {
    name: "MLP relu, KL on class indices, batch 32 (last batch 11)",
    model: (k) => k.mlp({ inputs: INPUTS, hidden: [7], classes: CLASSES, seed: 5 }),
    y: labels,
    options: { epochs: 3, batchSize: 32, seed: 2 },
  },
  {
    name: "MLP tanh, MSE on soft targets, batch 5 (two quads, fewer than the threads), clipNorm, sgd",
    model: (k) => k.mlp({ inputs: INPUTS, hidden: [4, 3], classes: CLASSES, activation: "tanh", seed: 9 }),
    y: soft,
    options: { epochs: 1, batchSize: 5, loss: "mse", optimizer: "sgd", learningRate: 0.1, clipNorm: 0.5 },
  },
  {
    name: "categorical, JS on soft targets, batch 16, early stopping",
    model: (k) => k.categorical({ classes: CLASSES }),
    x: null,
    y: soft,
    options: { epochs: 3, batchSize: 16, loss: "js", learningRate: 0.05, earlyStopping: { patience: 1 } },
  },
  {
    name: "softmax regression, cross-entropy, validation fraction, batch 64",
    model: (k) => k.softmaxRegression({ inputs: INPUTS, classes: CLASSES, seed: 1 }),
    y: labels,
    options: { epochs: 2, batchSize: 64, loss: "cross-entropy", validation: 0.2 },
  },
];

afterEach(() => {
  delete process.env.KLCORE_WORKER_FAULT;
});

describe("fit in workers: the same bits for any worker count", () => {
  for (const [build, k] of builds) {
    for (const c of CASES) {
      it(`${build}: ${c.name}`, async () => {
        const runs: { workers: number; result: FitResult; params: number[][] }[] = [];
        for (const workers of [1, 2, 4, 8, 3]) {
          const m = c.model(k);
          const result = await fit(m, { x: c.x === null ? null : x, y: c.y }, { ...c.options, workers });
          runs.push({ workers, result, params: bits(m) });
          m.dispose();
        }
        for (const run of runs) {
          expect(run.result.threads, `workers: ${run.workers}`).toBe(run.workers);
          expect(run.result.stopReason).toBe("completed");
          expect(timeless(run.result.history), `workers: ${run.workers}`).toEqual(
            timeless(runs[0]!.result.history),
          );
          expect(run.params, `workers: ${run.workers}`).toEqual(runs[0]!.params);
        }
        // Without workers: the same arithmetic row by row and element by element, so the same
        // history and parameters, bit for bit.
        const m = c.model(k);
        const plain = await fit(m, { x: c.x === null ? null : x, y: c.y }, c.options);
        expect(bits(m)).toEqual(runs[0]!.params);
        m.dispose();
        expect(plain.threads).toBe(1);
        expect(timeless(plain.history)).toEqual(timeless(runs[0]!.result.history));
      });
    }
  }
});

describe("fit in workers: without shared memory, one thread and the same bits", () => {
  it("warns once naming the headers, reports threads: 1, trains as 2 workers do", async () => {
    const k = builds[0]![1];
    const c = CASES[0]!;
    const m = c.model(k);
    const want = await fit(m, { x, y: c.y }, { ...c.options, workers: 2 });
    const wantBits = bits(m);
    m.dispose();
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const saved = globalThis.SharedArrayBuffer;
    // As in a page that is not cross-origin isolated.
    (globalThis as { SharedArrayBuffer?: unknown }).SharedArrayBuffer = undefined;
    try {
      for (let i = 0; i < 2; i++) {
        const m2 = c.model(k);
        const got = await fit(m2, { x, y: c.y }, { ...c.options, workers: 2 });
        expect(got.threads).toBe(1);
        expect(timeless(got.history)).toEqual(timeless(want.history));
        expect(bits(m2)).toEqual(wantBits);
        m2.dispose();
      }
    } finally {
      globalThis.SharedArrayBuffer = saved;
    }
    const warnings = warn.mock.calls.map((call) => String(call[0]));
    warn.mockRestore();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /one thread .*Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp/,
    );
  });
});

describe("fit in workers: the option", () => {
  const k = builds[0]![1];
  const model = () => k.mlp({ inputs: INPUTS, hidden: [4], classes: CLASSES });

  it("'auto' uses the available cores (at most 8), more than 8 uses 8", async () => {
    const m = model();
    const auto = await fit(m, { x, y: labels }, { epochs: 1, batchSize: 64, workers: "auto" });
    expect(auto.threads).toBe(Math.min(availableParallelism(), 8));
    const many = await fit(m, { x, y: labels }, { epochs: 1, batchSize: 64, workers: 20 });
    expect(many.threads).toBe(8);
    m.dispose();
  });

  for (const bad of [0, -1, 1.5, NaN, "all", null, "2"]) {
    it(`workers: ${String(bad)} is refused before anything changes`, async () => {
      const m = model();
      const before = bits(m);
      await expect(fit(m, { x, y: labels }, { workers: bad as unknown as number })).rejects.toThrow(
        /^workers must be a positive integer or 'auto'; got /,
      );
      expect(bits(m)).toEqual(before);
      m.dispose();
    });
  }
});

describe("fit in workers: bad x", () => {
  it("NaN in x is refused before the first step: no batch runs, the model is unchanged", async () => {
    // Without workers fit checks x batch by batch; the workers take x whole, so it is checked first.
    const m = builds[0]![1].mlp({ inputs: INPUTS, hidden: [4], classes: CLASSES });
    const before = bits(m);
    const bad = x.slice();
    bad[150 * INPUTS + 2] = NaN;
    let batches = 0;
    await expect(
      fit(m, { x: bad, y: labels }, { epochs: 1, batchSize: 16, workers: 2, onBatch: () => void batches++ }),
    ).rejects.toThrow("x row 150, column 2 must be finite (in float32 range); got NaN");
    expect(batches).toBe(0);
    expect(bits(m)).toEqual(before);
    m.dispose();
  });
});

describe("fit in workers: faults and aborting", () => {
  const k = builds[0]![1];
  const model = () => k.mlp({ inputs: INPUTS, hidden: [4], classes: CLASSES, seed: 3 });
  const options: FitOptions = { epochs: 2, batchSize: 16, workers: 2 };

  /** The parameters after `steps` batches of the same fit, without a fault. */
  async function after(steps: number): Promise<number[][]> {
    const m = model();
    let seen = 0;
    await fit(m, { x, y: labels }, { ...options, onBatch: () => ++seen < steps });
    const out = bits(m);
    m.dispose();
    return out;
  }

  for (const [kind, message] of [
    ["throw", /^fit\(\): worker 1 failed: test fault in worker 1 at step 3; /],
    ["exit", /^fit\(\): worker 1 stopped \(exit code 3\) during training; /],
  ] as const) {
    it(`a worker that ${kind === "throw" ? "throws" : "exits"} rejects fit; the parameters are the last step's`, async () => {
      const want = await after(2);
      process.env.KLCORE_WORKER_FAULT = `${kind}:1:3`;
      const m = model();
      await expect(fit(m, { x, y: labels }, options)).rejects.toThrow(message);
      expect(bits(m)).toEqual(want);
      delete process.env.KLCORE_WORKER_FAULT;
      // The model is free again: the same fit runs to the end.
      const again = await fit(m, { x, y: labels }, options);
      expect(again.stopReason).toBe("completed");
      m.dispose();
    });
  }

  it("a fault at the first batch rejects fit; the parameters are unchanged", async () => {
    process.env.KLCORE_WORKER_FAULT = "throw:1:1";
    const m = model();
    const before = bits(m);
    await expect(fit(m, { x, y: labels }, options)).rejects.toThrow(/worker 1 failed/);
    expect(bits(m)).toEqual(before);
    m.dispose();
  });

  it("an AbortSignal stops training at the next batch", async () => {
    const want = await after(3);
    const controller = new AbortController();
    const m = model();
    let seen = 0;
    const result = await fit(
      m,
      { x, y: labels },
      {
        ...options,
        signal: controller.signal,
        onBatch: () => {
          if (++seen === 3) controller.abort();
        },
      },
    );
    expect(result.stopReason).toBe("aborted");
    expect(result.history[0]!.batches).toBe(3);
    expect(bits(m)).toEqual(want);
    m.dispose();
  });

  it("a process whose fit failed, was aborted or completed exits by itself: no worker left", () => {
    const dist = fileURLToPath(new URL("../dist/index.js", import.meta.url));
    const script = `
      import { mlp, fit } from ${JSON.stringify(dist)};
      const x = new Float32Array(${ROWS * INPUTS}).map((_, i) => Math.sin(i));
      const y = new Int32Array(${ROWS}).map((_, i) => i % 3);
      const m = mlp({ inputs: ${INPUTS}, hidden: [4], classes: 3 });
      const o = { epochs: 2, batchSize: 16, workers: 2 };
      const seen = [];
      process.env.KLCORE_WORKER_FAULT = "throw:1:2";
      await fit(m, { x, y }, o).catch((e) => seen.push("rejected"));
      process.env.KLCORE_WORKER_FAULT = "exit:1:2";
      await fit(m, { x, y }, o).catch((e) => seen.push("rejected"));
      delete process.env.KLCORE_WORKER_FAULT;
      const c = new AbortController();
      seen.push((await fit(m, { x, y }, { ...o, signal: c.signal, onBatch: () => c.abort() })).stopReason);
      seen.push((await fit(m, { x, y }, o)).stopReason);
      console.log(seen.join(" "));
    `;
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(run.stderr).toBe("");
    expect(run.signal).toBeNull();
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe("rejected rejected aborted completed");
  });
});

describe("the workers suite (bench/suites/workers.mjs)", () => {
  it("runs each worker count on one data set; their parameters are the same bits", async () => {
    const run = await workersSuite({
      samples: 2,
      workload: { samples: 200, inputs: 12 },
      hidden: [8],
      batchSizes: [32, 64],
    });
    expect(run.suite).toBe("workers");
    expect(run.workloads.map((w) => [w.model, w.batchSize])).toEqual([
      ["MLP 12-8-10 ReLU", 32],
      ["MLP 12-8-10 ReLU", 64],
    ]);
    const counts = workerCounts(run.settings.cores);
    for (const w of run.workloads) {
      expect(w.contenders.map((r) => r.workers)).toEqual([null, ...counts]);
      expect(w.contenders.map((r) => r.threads)).toEqual([1, ...counts]);
      for (const r of w.contenders) {
        // 2 rounds of 2 epochs each.
        expect(r.epochSamplesMs).toHaveLength(4);
        expect(r.samplesPerSecond).toBeGreaterThan(0);
      }
    }
    expect(run.targets.map((t) => t.id)).toEqual(
      run.settings.cores >= 2 ? ["workers-mlp-b32-2x", "workers-mlp-b64-2x"] : [],
    );
  });

  it("worker counts: powers of two up to the cores, the cores, and 2", () => {
    expect(workerCounts(1)).toEqual([1, 2]);
    expect(workerCounts(2)).toEqual([1, 2]);
    expect(workerCounts(6)).toEqual([1, 2, 4, 6]);
    expect(workerCounts(16)).toEqual([1, 2, 4, 8]);
  });
});
