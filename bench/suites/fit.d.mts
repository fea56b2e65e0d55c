// Types of bench/suites/fit.mjs, for the test that runs it on a small workload.

import type { Ratio } from "../harness.mjs";
import type { HarnessOptions, Verdict } from "./common.mjs";
import type { WORKLOAD } from "./train.mjs";

export const FIT_OVERHEAD_TARGET: number;

export interface FitWorkload {
  model: string;
  hidden: number[];
  fitIdenticalToLoop: boolean;
  /** Compared again after timing when both ran as many epochs; else null. */
  identicalAfterTiming: true | null;
  handMs: number;
  fitMs: number;
  /** fit's time over the hand loop's, same-round ratios. */
  ratio: Ratio;
  rounds: number[][];
}

export function fitOverhead(
  options: Pick<HarnessOptions, "samples" | "log"> & {
    workload?: Partial<typeof WORKLOAD>;
    models?: { name: string; hidden: number[] }[];
  },
): Promise<{ suite: "fit"; workloads: FitWorkload[]; targets: Verdict[] }>;
