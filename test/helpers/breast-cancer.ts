// The Bayesian logistic regression reference on data/breast-cancer.csv, for the tests: the design
// matrix exactly as test/fixtures/generate_vi_logreg.py builds it, and the committed reference
// (test/fixtures/vi-logreg-reference.json; its fields are described in
// docs/variational-inference-reference.md).
//
// Column 0 of x is 1 (the intercept); column j = 1..30 is (feature - featureMean[j-1]) /
// featureSd[j-1] with the recorded float64 mean and population sd of that feature, so that x is
// bit for bit the script's. y is 1 for benign, 0 for malignant.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

export interface PosteriorSummary {
  mean: number[];
  sd: number[];
}

export interface ViLogregReference {
  generator: string;
  numpy: string;
  scipy: string;
  data: {
    file: string;
    sha256: string;
    rows: number;
    columns: string[];
    target: string;
    design: string;
    featureMean: number[];
    featureSd: number[];
  };
  model: { likelihood: string; prior: string; priorScale: number; dim: number };
  posterior: PosteriorSummary & {
    method: string;
    chains: number;
    warmup: number;
    drawsPerChain: number;
    sampler: Record<string, unknown>;
    mcseMean: number[];
    mcseSd: number[];
    mcseMeanFromEss: number[];
    mcseSdFromEss: number[];
    rhat: number[];
    essBulk: number[];
    essTail: number[];
    /** dim x dim, row-major. */
    covariance: number[];
    mcseCovariance: number[];
  };
  importanceCheck: PosteriorSummary & {
    proposal: string;
    draws: number;
    effectiveSampleSize: number;
    paretoK: number;
    seMean: number[];
    seSd: number[];
    maxAbsZMeanVsHmc: number;
    maxAbsZSdVsHmc: number;
  };
  logMarginalLikelihood: {
    importanceSampling: { value: number; se: number };
    bridgeSampling: { value: number; se: number; replicates: number };
    laplace: number;
  };
  laplace: {
    mode: number[];
    sd: number[];
    covariance: number[];
    logJointAtMode: number;
    maxAbsGradientAtMode: number;
  };
  variationalOptimum: Record<
    "fullrank" | "meanfield",
    PosteriorSummary & {
      method: string;
      elbo: number;
      maxAbsGradient: number;
      quadratureDifference: { mean: number; sd: number; elbo: number };
      covariance?: number[];
    }
  >;
}

export function loadViLogregReference(): ViLogregReference {
  const path = `${root}test/fixtures/vi-logreg-reference.json`;
  return JSON.parse(readFileSync(path, "utf8")) as ViLogregReference;
}

export interface BreastCancer {
  /** rows x dim, row-major, intercept column first. */
  x: Float64Array;
  /** 1 = benign, 0 = malignant. */
  y: Float64Array;
  rows: number;
  dim: number;
  /** "intercept", then the CSV's feature names. */
  columns: string[];
}

/** The standardised design matrix and the labels, with the reference's recorded means and sds. */
export function loadBreastCancer(reference: ViLogregReference = loadViLogregReference()): BreastCancer {
  const lines = readFileSync(`${root}data/breast-cancer.csv`, "ascii").split("\n");
  const header = lines[0]!.split(",");
  const rows = lines.slice(1).filter((l) => l.length > 0);
  const features = header.length - 1;
  const dim = features + 1;
  const { featureMean, featureSd } = reference.data;
  const x = new Float64Array(rows.length * dim);
  const y = new Float64Array(rows.length);
  rows.forEach((line, i) => {
    const fields = line.split(",");
    x[i * dim] = 1;
    for (let j = 0; j < features; j++)
      x[i * dim + 1 + j] = (Number(fields[j]) - featureMean[j]!) / featureSd[j]!;
    y[i] = Number(fields[features]);
  });
  return { x, y, rows: rows.length, dim, columns: ["intercept", ...header.slice(0, features)] };
}
