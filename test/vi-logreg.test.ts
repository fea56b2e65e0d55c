// fitVI on Bayesian logistic regression of the breast-cancer data (data/breast-cancer.csv, 569 rows,
// 30 standardised features and an intercept, prior N(0, 1)) with the built-in target, in both
// builds, against the committed long-run reference (test/fixtures/vi-logreg-reference.json;
// docs/variational-inference-reference.md): each family lands on its exact Gaussian variational
// optimum (the tolerance is a fit's own noise: 0.05 posterior sds for a mean, 5% for an sd, 5
// standard errors of the ELBO estimate), hence full-rank within the optimum's own distance of the
// HMC posterior's means and sds; the importance-weighted ln p(y) is near the bridge-sampling value;
// and the Pareto k tells the good full-rank q from the mean-field one, whose KL is 12 nats.
import { describe, expect, it } from "vitest";
import { adam, cosineSchedule, createInstanceSync, type Klcore, type VIPosterior } from "../dist/index.js";
import { loadBreastCancer, loadViLogregReference } from "./helpers/breast-cancer.js";

const ref = loadViLogregReference();
const data = loadBreastCancer(ref);
const builds: [string, Klcore][] = [
  ["simd", createInstanceSync({ simd: true })],
  ["scalar", createInstanceSync({ simd: false })],
];
const STEPS = 4000;

async function fitOn(k: Klcore, family: "meanfield" | "fullrank"): Promise<VIPosterior> {
  const target = k.targets.logisticRegression({
    x: data.x,
    y: data.y,
    priorScale: ref.model.priorScale,
    dim: data.dim,
  });
  return k.fitVI(target, {
    family,
    steps: STEPS,
    samples: 8,
    seed: 1,
    stickingTheLanding: true,
    optimizer: adam({ learningRate: cosineSchedule({ initial: 0.02, steps: STEPS }) }),
  });
}

/** The largest |a - b| / posterior sd over the coefficients, and the range of a / b for the sds. */
function distance(mean: ArrayLike<number>, sd: ArrayLike<number>, other: { mean: number[]; sd: number[] }) {
  let m = 0;
  let lo = Infinity;
  let hi = 0;
  for (let j = 0; j < data.dim; j++) {
    m = Math.max(m, Math.abs(mean[j]! - other.mean[j]!) / ref.posterior.sd[j]!);
    lo = Math.min(lo, sd[j]! / other.sd[j]!);
    hi = Math.max(hi, sd[j]! / other.sd[j]!);
  }
  return { mean: m, sdRatio: [lo, hi] as const };
}

describe("Bayesian logistic regression on the breast-cancer data against the reference", () => {
  it("uses the reference's model: 31 coefficients, prior scale 1", () => {
    expect(data.dim).toBe(ref.model.dim);
    expect(data.rows).toBe(569);
  });

  describe.each(builds)("%s build", (_, k) => {
    it("full-rank lands on the full-rank optimum, and so near the posterior", async () => {
      const q = await fitOn(k, "fullrank");
      const opt = ref.variationalOptimum.fullrank;
      const toOpt = distance(q.mean, q.sd, opt);
      expect(toOpt.mean).toBeLessThan(0.05);
      expect(toOpt.sdRatio[0]).toBeGreaterThan(0.95);
      expect(toOpt.sdRatio[1]).toBeLessThan(1.05);
      expect(Math.abs(q.elbo - opt.elbo)).toBeLessThan(5 * q.elboStdErr);
      // The optimum is 0.027 posterior sds from the posterior's means at most, its sds 0.958 to 1.000 of
      // the posterior's: q within that, plus its own tolerance above.
      const toPost = distance(q.mean, q.sd, ref.posterior);
      const optToPost = distance(opt.mean, opt.sd, ref.posterior);
      expect(toPost.mean).toBeLessThan(optToPost.mean + 0.05);
      expect(toPost.sdRatio[0]).toBeGreaterThan(optToPost.sdRatio[0] - 0.05);
      expect(toPost.sdRatio[1]).toBeLessThan(optToPost.sdRatio[1] + 0.05);
      // ln p(y): bridge sampling gives -55.2233 +- 0.0012; ELBO <= estimate, and the estimate close.
      const bridge = ref.logMarginalLikelihood.bridgeSampling.value;
      expect(q.logEvidence).toBeGreaterThan(q.elbo);
      expect(Math.abs(q.logEvidence - bridge)).toBeLessThan(0.05);
      expect(q.elbo + 5 * q.elboStdErr).toBeLessThan(bridge);
      expect(q.paretoK).toBeLessThan(0.7);
    });

    it("mean-field lands on the mean-field optimum, too narrow, and k says do not trust it", async () => {
      const q = await fitOn(k, "meanfield");
      const opt = ref.variationalOptimum.meanfield;
      const toOpt = distance(q.mean, q.sd, opt);
      expect(toOpt.mean).toBeLessThan(0.05);
      expect(toOpt.sdRatio[0]).toBeGreaterThan(0.95);
      expect(toOpt.sdRatio[1]).toBeLessThan(1.05);
      expect(Math.abs(q.elbo - opt.elbo)).toBeLessThan(5 * q.elboStdErr);
      const toPost = distance(q.mean, q.sd, ref.posterior);
      expect(toPost.sdRatio[1]).toBeLessThan(0.75);
      expect(q.paretoK).toBeGreaterThan(0.7);
    });
  });
});
