// Types of bench/suites/vi.mjs, for the tests of the benchmark.

import type { Summary } from "../harness.mjs";
import type { Family, VI_WORKLOAD } from "../reference/vi.mjs";
import type { Contender, HarnessOptions, Row, Verdict } from "./common.mjs";

export const KLCORE: string;
export const KLCORE_SCALAR: string;
export const USER_ALONE: string;
export const KLCORE_USER: string;
export const KLCORE_BUILTIN: string;
export const STEPS_PER_CALL: { full: number; quick: number };
export const EIGHT_SCHOOLS_STEPS_FACTOR: number;
export const EVALUATION_DRAWS: number;
export const TARGETS: { vsJs: number; vsTorch: number };
export const EIGHT_SCHOOLS: {
  y: number[];
  sigma: number[];
  muScale: number;
  tauScale: number;
  draws: number;
};
export const VI_TOLERANCE: { target: number; torch: number; elboStdErrs: number };

export function eightSchoolsTarget(spec: {
  y: number[];
  sigma: number[];
  muScale: number;
  tauScale: number;
}): { dim: number; logDensity(z: Float64Array, grad: Float64Array): number };

export interface ViRow extends Row {
  usPerStep: number;
  stepsPerSecond: number;
}

export interface ViWorkload {
  family: Family;
  rows: number;
  features: number;
  draws: number;
  stepsPerCall: number;
  check: {
    target: Record<"simd" | "scalar", { value: number; gradient: number }>;
    elbo: Record<string, { elbo: number; stdErr: number; standardErrorsApart?: number }>;
    torch: { elbo: number; gradient: number } | null;
  };
  fixedCostNs: Summary;
  contenders: ViRow[];
  rounds: number[][];
}

export interface EightSchools {
  dim: number;
  draws: number;
  stepsPerCall: number;
  check: { value: number; gradient: number };
  fixedCostNs: Summary;
  contenders: (Row & { nsPerDraw: Summary })[];
  klcoreNsPerDraw: Summary;
  userShare: Summary;
  rounds: number[][];
}

export function vi(
  options: HarnessOptions & {
    quick?: boolean;
    families?: Family[];
    workload?: Partial<typeof VI_WORKLOAD>;
    stepsPerCall?: number;
    eightSchools?: boolean;
    extraContenders?: (context: {
      suite: "vi";
      family: Family;
      stepsPerCall: number;
    }) => Contender[] | Promise<Contender[]>;
  },
): Promise<{
  suite: "vi";
  workloads: ViWorkload[];
  eightSchools: EightSchools | null;
  targets: Verdict[];
}>;
