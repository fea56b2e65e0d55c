// The benchmark in headless Chromium checks itself as test/bench-harness.test.ts does in Node: the
// page of bench:browser (bench/browser/page.mjs, bundled and served by bench/browser/chromium.mjs)
// runs every suite on tiny workloads (n = 1000, a 16x10 batch, a small training set; 2 samples), and
// every contender must have run, with the shape the report reads, and given the float64 reference's
// value within the tolerance of its kind (the known-wrong ones showing their failure); klcore came
// from the browser bundle, TF.js's wasm backend from its single-threaded SIMD binary, and the page's
// clock was the cross-origin-isolated one.
//
// Without Chromium (CHROMIUM_PATH, default /usr/bin/chromium) the test is skipped with a warning,
// unless KLCORE_REQUIRE_BROWSER=1 (CI), where a missing Chromium fails.

import { beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, hasChromium, runInChromium, type PageReport } from "../bench/browser/chromium.mjs";
import type { Summary } from "../bench/harness.mjs";
import { JS_NAME, TF_CPU, TF_WASM, TOLERANCE, type Row } from "../bench/suites/common.mjs";
import { ML, SCALAR, SIMD, SIMD_NOVALIDATE, TF_BUILTIN, ZERO_COPY } from "../bench/suites/divergences.mjs";
import { FIT, HAND_LOOP, TRAIN_TOLERANCE } from "../bench/suites/train.mjs";
import { GRADIENT_TOLERANCE } from "../bench/suites/xent.mjs";

const requireBrowser = process.env.KLCORE_REQUIRE_BROWSER === "1";
const TINY = { samples: 2, targetMs: 0.2, warmupMs: 2 };
const TINY_TRAINING = { samples: 200, inputs: 32, batchSize: 64 };
const TINY_MODELS = [
  { name: "softmax regression", hidden: [] },
  { name: "mlp [8]", hidden: [8] },
];

if (!hasChromium() && !requireBrowser) {
  console.warn(`benchmark browser test skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`);
}

if (!hasChromium() && requireBrowser) {
  describe("the benchmark in Chromium", () => {
    it("needs Chromium (KLCORE_REQUIRE_BROWSER=1)", () => {
      throw new Error(
        `KLCORE_REQUIRE_BROWSER=1 but no Chromium at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH`,
      );
    });
  });
}

function expectSummary(s: Summary): void {
  expect(Number.isFinite(s.median) && s.median > 0).toBe(true);
  expect(s.min).toBeLessThanOrEqual(s.median);
  expect(s.median).toBeLessThanOrEqual(s.max);
}

function expectShape(row: Row): void {
  expectSummary(row.nsPerCall);
  expectSummary(row.speedupVsJs);
  expectSummary(row.speedupVsTfWasm!);
  expect(row.samplesNs).toHaveLength(TINY.samples);
}

describe.skipIf(!hasChromium())("the benchmark suites in headless Chromium", () => {
  let report: PageReport;
  let browser: { version: string; v8: string; userAgent: string };
  let wasmFetched: string[];

  beforeAll(async () => {
    ({
      result: report,
      browser,
      wasmFetched,
    } = await runInChromium({
      suites: [
        { name: "divergences", options: { ...TINY, sizes: [1000] } },
        { name: "xent", options: { ...TINY, shapes: [[16, 10]] } },
        { name: "train", options: { samples: 2, workload: TINY_TRAINING, models: TINY_MODELS } },
      ],
    }));
  }, 60_000);

  it("ran in Chromium, cross-origin isolated, TF.js on its single-threaded SIMD binary", () => {
    expect(browser.version).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(browser.v8).toMatch(/^\d+\.\d+\.\d+/);
    expect(report.page.userAgent).toContain("Chrome/");
    expect(report.page.crossOriginIsolated).toBe(true);
    // Chromium's isolated clock: 5 µs steps (100 µs without isolation).
    expect(report.page.timerResolutionMs).toBeLessThanOrEqual(0.02);
    expect(report.tfjs.binary).toMatchObject({
      file: "tfjs-backend-wasm-simd.wasm",
      simd: true,
      threads: false,
    });
    expect([...new Set(wasmFetched)]).toEqual(["tfjs-backend-wasm-simd.wasm"]);
    expect(Number.isFinite(report.sink.sum)).toBe(true);
  });

  it("divergences: every contender ran and gave the float64 reference's value", () => {
    const run = report.suites.divergences!;
    expect(run.workloads.map((w) => `${w.kernel} ${w.dtype}`).sort()).toEqual(
      ["entropy", "jsDivergence", "kl"].flatMap((k) => [`${k} float32`, `${k} float64`]).sort(),
    );
    for (const w of run.workloads) {
      const names = w.contenders.map((c) => c.contender);
      expect(names).toEqual(expect.arrayContaining([JS_NAME, SIMD, SCALAR, ZERO_COPY, TF_CPU, TF_WASM]));
      if (w.kernel === "kl") expect(names).toEqual(expect.arrayContaining([TF_BUILTIN, ML, SIMD_NOVALIDATE]));
      if (w.kernel === "jsDivergence") expect(names).toContain(ML);
      for (const c of w.contenders) {
        expectShape(c);
        const at = `${w.kernel} ${w.dtype} ${c.contender}`;
        if (c.known === "nan") {
          // NaN crosses JSON as null.
          expect(c.value, at).toBeNull();
        } else if (c.known === "clips") {
          expect(Number.isFinite(c.relativeError), at).toBe(true);
        } else {
          expect(c.relativeError, at).toBeLessThanOrEqual(TOLERANCE[c.kind][w.dtype]);
        }
      }
    }
    expect(run.targets.map((t) => t.id)).toEqual(["kl-validation-overhead"]);
  });

  it("crossEntropyWithLogits: every contender gave the reference loss and gradient", () => {
    const run = report.suites.xent!;
    expect(run.workloads).toHaveLength(2);
    for (const w of run.workloads) {
      expect(w.contenders.map((c) => c.contender)).toEqual(
        expect.arrayContaining([JS_NAME, SIMD, SCALAR, ZERO_COPY, TF_CPU, TF_WASM]),
      );
      for (const c of w.contenders) {
        expectShape(c);
        expect(c.relativeError, c.contender).toBeLessThanOrEqual(TOLERANCE[c.kind][w.dtype]);
        const kind = c.kind as keyof typeof GRADIENT_TOLERANCE;
        expect(c.gradientError, c.contender).toBeLessThanOrEqual(GRADIENT_TOLERANCE[kind][w.dtype]);
      }
    }
  });

  it("training: every contender trained the same epoch, fit() bit for bit with the loop by hand", () => {
    const run = report.suites.train!;
    expect(run.workloads).toHaveLength(2);
    for (const w of run.workloads) {
      expect(w.fitIdenticalToLoop).toBe(true);
      expect(w.contenders.map((c) => c.contender)).toEqual([JS_NAME, FIT, HAND_LOOP, TF_CPU, TF_WASM]);
      for (const c of w.contenders) {
        expectShape(c);
        const tol = TRAIN_TOLERANCE[c.kind as keyof typeof TRAIN_TOLERANCE];
        expect(c.parameterDifference, c.contender).toBeLessThanOrEqual(tol.parameters);
        if (c.contender !== FIT) expect(c.lossRelativeDifference!, c.contender).toBeLessThanOrEqual(tol.loss);
      }
      expect(w.contenders.find((c) => c.contender === TF_WASM)!.parameterDifference).toBeGreaterThan(0);
    }
    expect(run.targets).toHaveLength(4);
  });
});
