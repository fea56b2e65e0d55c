// Types of bench/suites/xent.mjs, for the tests of the benchmark.

import type { Contender, Dtype, HarnessOptions, Kind, Row, Verdict } from "./common.mjs";

export const SHAPES: [number, number][];
export const SIMD: string;
export const SCALAR: string;
export const ZERO_COPY: string;
export const GRADIENT_TOLERANCE: Record<Exclude<Kind, "ml-distance">, Record<Dtype, number>>;

export interface XentWorkload {
  dtype: Dtype;
  rows: number;
  classes: number;
  reference: number;
  contenders: (Row & { gradientError: number | null })[];
  rounds: number[][];
}

export function xent(
  options: HarnessOptions & {
    shapes?: [number, number][];
    dtypes?: Dtype[];
    extraContenders?: (context: {
      suite: "xent";
      dtype: Dtype;
      rows: number;
      classes: number;
      z: Float32Array | Float64Array;
      y: Int32Array;
    }) =>
      | (Contender & { gradient?: () => ArrayLike<number> | Promise<ArrayLike<number>> })[]
      | Promise<(Contender & { gradient?: () => ArrayLike<number> | Promise<ArrayLike<number>> })[]>;
  },
): Promise<{ suite: "xent"; workloads: XentWorkload[]; targets: Verdict[] }>;
