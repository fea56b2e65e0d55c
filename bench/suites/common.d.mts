// Types of bench/suites/common.mjs, for the tests of the benchmark.

import type { Ratio, Summary } from "../harness.mjs";

export const JS_NAME: string;
export const TF_CPU: string;
export const TF_WASM: string;

export type Dtype = "float32" | "float64";
export type Kind = "js" | "klcore" | "ml-distance" | "tfjs" | "torch";

export const TOLERANCE: Record<Kind, Record<Dtype, number>>;

/** A contender as the suites build it, and as extraContenders may add one. */
export interface Contender {
  name: string;
  kind: Kind;
  fn: () => number | Promise<number>;
  before?: () => unknown;
  known?: "nan" | "clips";
  note?: string;
  dispose?: () => unknown;
}

/** PyTorch's contenders for the suites on a started child (suiteContenders of contenders/torch.mjs). */
export type TorchContenders = import("../contenders/torch.mjs").SuiteContenders;

/** One contender's figures in one workload. */
export interface Row {
  contender: string;
  kind: Kind;
  known: "nan" | "clips" | null;
  note: string | null;
  repsPerSample: number;
  value: number;
  relativeError: number | null;
  nsPerCall: Summary;
  nsPerElement: Summary;
  speedupVsJs: Summary;
  speedupVsJsOfMinimums: number;
  speedupVsTfWasm: Ratio | null;
  /** time(PyTorch) / time(this contender), same rounds, when PyTorch ran. */
  speedupVsTorch: Ratio | null;
  samplesNs: number[];
}

export interface Verdict {
  id: string;
  description: string;
  value: number;
  threshold: number;
  atMost: boolean;
  met: boolean;
  /** 0 when met; else how far short, relative (0.12 = 12%). */
  shortfall: number;
  workload?: string;
  contender?: string;
  versus?: string;
  zeroCopyValue?: number;
}

export function verdict(spec: {
  id: string;
  description: string;
  value: number;
  threshold: number;
  atMost?: boolean;
  [extra: string]: unknown;
}): Verdict;

export interface HarnessOptions {
  samples: number;
  targetMs: number;
  warmupMs: number;
  log?: (line: string) => void;
  /** PyTorch's contenders; absent or null, none. */
  torch?: TorchContenders | null;
}
