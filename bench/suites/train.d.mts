// Types of bench/suites/train.mjs, for the tests that check its contenders.

import type { Klcore, Optimizer, WasmArray } from "../../dist/index.js";
import type { Dataset, JsMlp } from "../reference/train.mjs";
import type { Contender, HarnessOptions, Row, Verdict } from "./common.mjs";

/** The part of klcore's (internal) model the benchmark uses. */
export interface KlcoreModel {
  readonly inputs: number;
  readonly classes: number;
  parameters(): WasmArray<"float32">[];
  gradients(): WasmArray<"float32">[];
  forward(x: WasmArray<"float32"> | Float32Array, rows?: number): Float32Array;
  backward(dLogits: WasmArray<"float32"> | Float32Array, rows?: number): void;
  dispose(): void;
}

export const WORKLOAD: {
  samples: number;
  inputs: number;
  classes: number;
  batchSize: number;
  learningRate: number;
};
export const MODELS: { name: string; hidden: number[] }[];

export function klcoreEpoch(
  inst: Klcore,
  model: KlcoreModel,
  data: Dataset,
  options: { batchSize: number; optimizer: Optimizer; seed: number },
): number;

export function klcoreModel(
  inst: Klcore,
  spec: { inputs: number; hidden: readonly number[]; classes: number; seed: number },
): KlcoreModel;

export function jsModelLike(kModel: KlcoreModel, hidden: readonly number[]): JsMlp;

export function largestDifference(a: readonly Float32Array[], b: readonly Float32Array[]): number;

export function modelDifference(
  kModel: KlcoreModel,
  jsModel: JsMlp,
): { parameters: number; gradients: number };

export const FIT: string;
export const HAND_LOOP: string;
export const TRAIN_TOLERANCE: Record<
  "js" | "klcore" | "tfjs" | "torch",
  { loss: number; parameters: number }
>;

export interface TrainWorkload {
  model: string;
  hidden: number[];
  fitIdenticalToLoop: boolean;
  contenders: (Row & {
    samplesPerSecond: number;
    lossRelativeDifference: number | null;
    parameterDifference: number;
  })[];
  rounds: number[][];
}

export function train(
  options: Pick<HarnessOptions, "samples" | "log" | "torch"> & {
    workload?: Partial<typeof WORKLOAD>;
    models?: { name: string; hidden: number[] }[];
    extraContenders?: (context: {
      suite: "train";
      spec: { name: string; hidden: number[] };
      data: Dataset;
      weights: Float32Array[];
      jsModel: JsMlp;
    }) =>
      | (Contender & { parameters: () => Float32Array[] | Promise<Float32Array[]>; lossSum?: false })[]
      | Promise<
          (Contender & { parameters: () => Float32Array[] | Promise<Float32Array[]>; lossSum?: false })[]
        >;
  },
): Promise<{ suite: "train"; workloads: TrainWorkload[]; targets: Verdict[] }>;
