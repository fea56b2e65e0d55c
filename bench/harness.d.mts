// Types of bench/harness.mjs, for the tests of the benchmark.

export interface Summary {
  median: number;
  min: number;
  max: number;
}

export interface Ratio extends Summary {
  ofMinimums: number;
}

export interface WorkloadContender {
  name: string;
  fn: () => number | Promise<number>;
  before?: () => unknown;
  /** Runs `calls` calls and resolves to their total ns by the contender's own clock (another process). */
  timed?: (calls: number) => Promise<number>;
}

export interface ContenderResult {
  name: string;
  reps: number;
  value: number;
  relativeError: number | null;
  nsPerCall: Summary;
  nsPerElement: Summary;
  speedup: Summary;
  speedupOfMinimums: number;
  samplesNs: number[];
  /** Calls timed in each sample: 1 for a call timed alone, else at least 4 batches of `reps`. */
  callsPerSample: number[];
}

export interface WorkloadResult {
  name: string;
  elements: number;
  baseline: string;
  reference: number | null;
  samples: number;
  targetMs: number;
  contenders: ContenderResult[];
  rounds: number[][];
}

export const FULL: { samples: number; targetMs: number; warmupMs: number };
export const QUICK: { samples: number; targetMs: number; warmupMs: number };

export function runWorkload(spec: {
  name: string;
  contenders: WorkloadContender[];
  baseline: string;
  elements?: number;
  reference?: number;
  samples: number;
  targetMs: number;
  warmupMs: number;
  warmupCalls?: number;
}): Promise<WorkloadResult>;

/** Calls per mitata batch for a call of msPerCall: a quarter of targetMs, a multiple of 4. */
export function repsFor(msPerCall: number, targetMs: number): number;
export function pairedRatio(result: WorkloadResult, a: string, b: string): Ratio;
export function median(xs: readonly number[]): number;
export function sink(): number;
export function sinkNonFinite(): number;
export function mulberry32(seed: number): () => number;
