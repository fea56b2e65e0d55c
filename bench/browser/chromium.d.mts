// Types of bench/browser/chromium.mjs, for the test of the benchmark in Chromium.

import type { Verdict } from "../suites/common.mjs";
import type { DivergenceWorkload } from "../suites/divergences.mjs";
import type { TrainWorkload } from "../suites/train.mjs";
import type { XentWorkload } from "../suites/xent.mjs";

export const CHROMIUM: string;
export const FLAGS: string[];
export function hasChromium(): boolean;
export function bundlePage(): Promise<Uint8Array>;

export interface RelaxedResult {
  rows: number;
  inputs: number;
  outputs: number;
  rounds: number;
  calls: number;
  forward: { shippedMs: number; relaxedMs: number; speedup: number };
  backward: { shippedMs: number; relaxedMs: number; speedup: number };
  drift: { y: number; dw: number };
}

/** What the page reports (NaN values arrive as null, through JSON). */
export interface PageReport {
  page: {
    userAgent: string;
    hardwareConcurrency: number;
    deviceMemoryGiB: number | null;
    crossOriginIsolated: boolean;
    timerResolutionMs: number;
    relaxedSimd: boolean;
  };
  tfjs: { version: string; binary: { file: string; path: string; simd: boolean; threads: boolean } };
  suites: {
    divergences?: { workloads: DivergenceWorkload[]; targets: Verdict[]; durationSeconds: number };
    xent?: { workloads: XentWorkload[]; targets: Verdict[]; durationSeconds: number };
    train?: { workloads: TrainWorkload[]; targets: Verdict[]; durationSeconds: number };
  };
  relaxedSimd: RelaxedResult | null;
  sink: { sum: number; nonFinite: number };
  durationSeconds: number;
}

export function runInChromium(
  request: { suites: { name: "divergences" | "xent" | "train"; options: Record<string, unknown> }[] },
  options?: {
    relaxed?: { shipped: Uint8Array; relaxed: Uint8Array } | null;
    log?: (line: string) => void;
  },
): Promise<{
  result: PageReport;
  browser: { product: string; version: string; v8: string; userAgent: string };
  wasmFetched: string[];
}>;
