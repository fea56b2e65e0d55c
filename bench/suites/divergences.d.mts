// Types of bench/suites/divergences.mjs, for the tests of the benchmark.

import type { Ratio } from "../harness.mjs";
import type { Contender, Dtype, HarnessOptions, Row, Verdict } from "./common.mjs";

export type Kernel = "kl" | "entropy" | "jsDivergence";
export const KERNELS: Kernel[];
export const SIZES: number[];
export const DTYPES: Dtype[];
export const SIMD: string;
export const SCALAR: string;
export const ZERO_COPY: string;
export const SIMD_NOVALIDATE: string;
export const ZERO_COPY_NOVALIDATE: string;
export const TF_BUILTIN: string;
export const ML: string;

export interface DivergenceWorkload {
  kernel: Kernel;
  dtype: Dtype;
  n: number;
  zerosInP: number;
  reference: number;
  contenders: Row[];
  validationOverhead?: { simd: Ratio; zeroCopy: Ratio };
  zeroCopyGain?: { validated: Ratio; unvalidated: Ratio };
  rounds: number[][];
}

export function divergences(
  options: HarnessOptions & {
    kernels?: Kernel[];
    sizes?: number[];
    dtypes?: Dtype[];
    extraContenders?: (context: {
      suite: "divergences";
      kernel: Kernel;
      dtype: Dtype;
      n: number;
      p: Float32Array | Float64Array;
      q: Float32Array | Float64Array;
    }) => Contender[] | Promise<Contender[]>;
  },
): Promise<{ suite: "divergences"; workloads: DivergenceWorkload[]; targets: Verdict[] }>;
