// Types of bench/suites/workers.mjs, for the test that runs it on a small workload.

import type { HarnessOptions, Verdict } from "./common.mjs";
import type { WORKLOAD } from "./train.mjs";

export const BATCH_SIZES: number[];
export const HIDDEN: number[];
export const TARGETS: Record<number, number>;

/** 1, 2, 4, ... up to the cores (at most 8), the cores themselves, and always 2. */
export function workerCounts(cores: number): number[];

export interface WorkersRow {
  contender: string;
  /** null: fit without the option. */
  workers: number | null;
  threads: number;
  epochMs: { median: number; min: number; max: number };
  samplesPerSecond: number;
  poolStartMs: number;
  speedupVsOneWorker: number;
  speedupVsOneThread: number;
  epochSamplesMs: number[];
}

export interface WorkersWorkload {
  model: string;
  batchSize: number;
  identicalAcrossWorkers: true;
  contenders: WorkersRow[];
}

export function workers(
  options: Pick<HarnessOptions, "samples" | "log"> & {
    workload?: Partial<typeof WORKLOAD>;
    hidden?: number[];
    batchSizes?: number[];
  },
): Promise<{
  suite: "workers";
  settings: Record<string, unknown> & { cores: number; workerCounts: number[] };
  workloads: WorkersWorkload[];
  targets: Verdict[];
}>;
