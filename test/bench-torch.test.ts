// The VI suite and the PyTorch contenders of `npm run bench`, on tiny workloads. The VI suite (the
// JavaScript loop, klcore's fitVI in both builds, eight schools with a JavaScript logDensity) always
// runs: its contenders pass the checks before timing and its figures have the shape the report
// reads. PyTorch is optional: when /usr/bin/python3 imports torch, its contenders join every suite
// (kl, cross-entropy with its gradient, a training epoch, the VI step), agree with the references
// within their tolerances and give klcore a same-round ratio against them; without it those tests
// are skipped, with the reason in the title, and the report says PyTorch was skipped.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startTorch,
  suiteContenders,
  torchAvailable,
  type SuiteContenders,
  type TorchChild,
} from "../bench/contenders/torch.mjs";
import type { Summary } from "../bench/harness.mjs";
import { torchText } from "../bench/report.mjs";
import { TOLERANCE } from "../bench/suites/common.mjs";
import { SIMD, divergences } from "../bench/suites/divergences.mjs";
import { FIT, TRAIN_TOLERANCE, train } from "../bench/suites/train.mjs";
import {
  EIGHT_SCHOOLS,
  KLCORE,
  KLCORE_BUILTIN,
  KLCORE_SCALAR,
  KLCORE_USER,
  USER_ALONE,
  VI_TOLERANCE,
  eightSchoolsTarget,
  vi,
} from "../bench/suites/vi.mjs";
import { GRADIENT_TOLERANCE, xent } from "../bench/suites/xent.mjs";
import { createInstanceSync } from "../dist/index.js";

const TINY = { samples: 2, targetMs: 0.2, warmupMs: 2 };
const TINY_VI = { ...TINY, quick: true, workload: { rows: 100 }, stepsPerCall: 2 };

function expectSummary(s: Summary): void {
  expect(Number.isFinite(s.median) && s.median > 0).toBe(true);
  expect(s.min).toBeLessThanOrEqual(s.median);
  expect(s.median).toBeLessThanOrEqual(s.max);
}

describe("eight schools' JavaScript logDensity", () => {
  it("is the built-in hierarchicalNormal target, value and gradient, in both builds", () => {
    const user = eightSchoolsTarget(EIGHT_SCHOOLS);
    const grad = new Float64Array(user.dim);
    const bg = new Float64Array(user.dim);
    for (const simd of [true, false]) {
      const { y, sigma, muScale, tauScale } = EIGHT_SCHOOLS;
      const t = createInstanceSync({ simd }).targets.hierarchicalNormal({ y, sigma, muScale, tauScale });
      // From the funnel's neck (ln tau = -6) to a wide tau (ln tau = 5).
      for (const logTau of [-6, -1, 0, 1.5, 5]) {
        const z = Float64Array.from({ length: user.dim }, (_, i) => (i === 1 ? logTau : Math.sin(3 * i + 1)));
        const v = user.logDensity(z, grad);
        const b = t.logDensity(z, bg);
        expect(Math.abs(v - b) / Math.abs(b), `ln tau ${logTau}`).toBeLessThan(1e-13);
        for (let i = 0; i < user.dim; i++)
          expect(Math.abs(grad[i]! - bg[i]!), `ln tau ${logTau}, coordinate ${i}`).toBeLessThan(
            1e-12 * Math.max(1, Math.abs(bg[i]!)),
          );
      }
    }
  });
});

describe("the VI suite on 100 rows", async () => {
  const run = await vi({ ...TINY_VI });

  it("times the JS loop and fitVI in both builds, after the target and ELBO checks", () => {
    expect(run.workloads.map((w) => w.family)).toEqual(["meanfield", "fullrank"]);
    for (const w of run.workloads) {
      expect(w.rows).toBe(100);
      expect(w.contenders.map((c) => c.contender)).toEqual(["JS loop", KLCORE, KLCORE_SCALAR]);
      for (const c of w.contenders) {
        expectSummary(c.nsPerCall);
        expectSummary(c.speedupVsJs);
        expect(c.speedupVsTorch).toBeNull();
        // A call is stepsPerCall steps: per step is per element.
        expect(c.usPerStep * 1e3).toBeCloseTo(c.nsPerCall.median / 2, 6);
      }
      for (const build of ["simd", "scalar"] as const) {
        expect(w.check.target[build].value).toBeLessThanOrEqual(VI_TOLERANCE.target);
        expect(w.check.target[build].gradient).toBeLessThanOrEqual(VI_TOLERANCE.target);
      }
      expect(w.check.elbo[KLCORE]!.standardErrorsApart).toBeLessThanOrEqual(VI_TOLERANCE.elboStdErrs);
      expect(w.check.torch).toBeNull();
      expectSummary(w.fixedCostNs);
    }
    // Without PyTorch, only the verdicts against the JS loop.
    expect(run.targets.map((t) => t.id)).toEqual(["vi-meanfield-vs-js", "vi-fullrank-vs-js"]);
  });

  it("measures eight schools: the caller's function alone, fitVI on it, and klcore's time beyond it", () => {
    const e = run.eightSchools!;
    expect(e.contenders.map((c) => c.contender)).toEqual([USER_ALONE, KLCORE_USER, KLCORE_BUILTIN]);
    for (const c of e.contenders) expectSummary(c.nsPerDraw);
    expectSummary(e.fixedCostNs);
    expect(e.stepsPerCall).toBe(10 * TINY_VI.stepsPerCall);
    expect(e.rounds).toHaveLength(TINY.samples);
    // Each round's figures are those of its samples: fitVI's time per draw minus the function's.
    const calls = e.stepsPerCall * e.draws;
    const beyond = e.rounds.map((r) => (r[1]! - r[0]!) / calls);
    expect(e.klcoreNsPerDraw.min).toBe(Math.min(...beyond));
    expect(e.klcoreNsPerDraw.max).toBe(Math.max(...beyond));
    expect(e.userShare.median).toBeGreaterThan(0);
    // fitVI calls the function on every draw and does more: the share is below 1.
    expect(e.userShare.max).toBeLessThan(1);
  });

  it("says in the report why PyTorch's rows are missing", () => {
    expect(torchText({ torch: { skipped: "no torch here" } })).toMatch(/PyTorch skipped \(no torch here\)/);
    expect(
      torchText({
        klcoreThreads: 1,
        torch: { version: "2.0", threads: 2, threadsAsked: 2, interopThreads: 1 },
      }),
    ).toBe("PyTorch 2.0 CPU on 2 threads (torch.set_num_threads(2), interop 1), klcore on 1");
    // The BLAS the child loaded: Debian's reference BLAS and OpenBLAS differ several times in speed.
    expect(
      torchText({
        klcoreThreads: 1,
        torch: {
          version: "1.13",
          threads: 1,
          threadsAsked: 1,
          interopThreads: 1,
          blas: ["/usr/lib/x86_64-linux-gnu/openblas-serial/libblas.so.3"],
        },
      }),
    ).toBe(
      "PyTorch 1.13 CPU on 1 thread (torch.set_num_threads(1), interop 1, BLAS libblas.so.3 (openblas-serial)), klcore on 1",
    );
  });
});

const available = torchAvailable();
const reason = available.ok ? "" : ` (skipped: ${available.reason})`;

describe.skipIf(!available.ok)(`PyTorch contenders in every suite${reason}`, () => {
  let child: TorchChild;
  let torch: SuiteContenders;
  beforeAll(async () => {
    child = await startTorch({ threads: 1 });
    torch = suiteContenders(child);
  }, 60_000);
  afterAll(async () => {
    await child?.close();
  });

  it("runs on the thread count asked for, and names it", () => {
    expect(child.info.threads).toBe(1);
    expect(child.info.interopThreads).toBe(1);
  });

  it("kl: PyTorch agrees with the float64 reference and klcore has a same-round ratio to it", async () => {
    const run = await divergences({ ...TINY, sizes: [1000], kernels: ["kl"], torch });
    for (const w of run.workloads) {
      const t = w.contenders.find((c) => c.kind === "torch")!;
      expect(t.contender).toBe("PyTorch CPU, 1 thread");
      expect(t.relativeError).toBeLessThanOrEqual(TOLERANCE.torch[w.dtype]);
      expectSummary(w.contenders.find((c) => c.contender === SIMD)!.speedupVsTorch!);
      expect(t.speedupVsTorch!.median).toBe(1);
    }
  });

  it("cross-entropy: PyTorch's loss and gradient agree with the reference", async () => {
    const run = await xent({ ...TINY, shapes: [[16, 10]], torch });
    for (const w of run.workloads) {
      const t = w.contenders.find((c) => c.kind === "torch")!;
      expect(t.relativeError).toBeLessThanOrEqual(TOLERANCE.torch[w.dtype]);
      expect(t.gradientError).toBeLessThanOrEqual(GRADIENT_TOLERANCE.torch[w.dtype]);
      expect(t.gradientError).toBeGreaterThanOrEqual(0);
    }
    expect(run.targets.map((t) => t.id)).toEqual(["xent-f32-16x10-vs-torch", "xent-f64-16x10-vs-torch"]);
  });

  it("training: PyTorch's epoch trains as the JS loop does, and fit() has its verdict against it", async () => {
    const run = await train({
      samples: 2,
      workload: { samples: 200, inputs: 32, batchSize: 64 },
      models: [{ name: "mlp [8]", hidden: [8] }],
      torch,
    });
    const t = run.workloads[0]!.contenders.find((c) => c.kind === "torch")!;
    expect(t.parameterDifference).toBeLessThanOrEqual(TRAIN_TOLERANCE.torch.parameters);
    expect(t.parameterDifference).toBeGreaterThan(0);
    expect(t.lossRelativeDifference!).toBeLessThanOrEqual(TRAIN_TOLERANCE.torch.loss);
    expectSummary(run.workloads[0]!.contenders.find((c) => c.contender === FIT)!.speedupVsTorch!);
    expect(run.targets.map((v) => v.id)).toContain("train-mlp-vs-torch");
  });

  it("VI: PyTorch's step computes the JS loop's ELBO gradient, and is timed per step", async () => {
    const run = await vi({ ...TINY_VI, eightSchools: false, torch });
    for (const w of run.workloads) {
      expect(w.check.torch!.elbo).toBeLessThanOrEqual(VI_TOLERANCE.torch);
      expect(w.check.torch!.gradient).toBeLessThanOrEqual(VI_TOLERANCE.torch);
      const t = w.contenders.find((c) => c.kind === "torch")!;
      expect(t.contender).toBe("PyTorch CPU float64, 1 thread");
      expectSummary(t.nsPerCall);
      expectSummary(w.contenders.find((c) => c.contender === KLCORE)!.speedupVsTorch!);
    }
    expect(run.targets.map((v) => v.id)).toEqual([
      "vi-meanfield-vs-js",
      "vi-meanfield-vs-torch",
      "vi-fullrank-vs-js",
      "vi-fullrank-vs-torch",
    ]);
    expect(run.eightSchools).toBeNull();
  });
});
