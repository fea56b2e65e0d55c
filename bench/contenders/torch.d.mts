// Types of bench/contenders/torch.mjs, for the tests that use it.

export const PYTHON: string;

export function torchAvailable(
  python?: string,
): { ok: true; version: string } | { ok: false; reason: string };

type Typed = Float32Array | Float64Array | Int32Array;

export interface WireArray {
  dtype: "float32" | "float64" | "int32";
  shape: number[];
  data: string;
}
export function encodeArray(array: Typed, shape?: number[]): WireArray;
export function decodeArray(array: WireArray): Typed;

export interface TorchInfo {
  torch: string;
  numpy: string;
  python: string;
  threads: number;
  interopThreads: number;
  parallel: string[];
}

export type Arrays = Record<string, Typed | [Typed, number[]]>;

export interface TorchChild {
  readonly info: TorchInfo;
  setup(
    workload: "vi" | "kl" | "xent" | "train",
    params?: Record<string, unknown>,
    arrays?: Arrays,
  ): Promise<string>;
  run(id: string, iterations?: number): Promise<{ ns: number; value: number }>;
  call(
    id: string,
    method: string,
    args?: Record<string, unknown>,
    arrays?: Arrays,
  ): Promise<{ arrays: Record<string, Typed>; [key: string]: unknown }>;
  dispose(id: string): Promise<void>;
  close(): Promise<void>;
}

export function startTorch(options?: { threads?: number; python?: string }): Promise<TorchChild>;

export interface TorchContender {
  name: string;
  kind: string;
  /** The workload's id in the child (for its call()s). */
  id: string;
  fn: () => Promise<number>;
  timed: (calls: number) => Promise<number>;
  dispose: () => Promise<void>;
}
export function torchLabel(threads: number, prefix?: string): string;

export interface SuiteContenders {
  child: TorchChild;
  info: TorchInfo;
  kl(p: Float32Array | Float64Array, q: Float32Array | Float64Array): Promise<TorchContender>;
  xent(
    z: Float32Array | Float64Array,
    y: Int32Array,
    rows: number,
    classes: number,
  ): Promise<TorchContender & { gradient(): Promise<Float32Array | Float64Array | Int32Array> }>;
  train(spec: {
    x: Float32Array;
    y: Int32Array;
    order: Int32Array;
    weights: Float32Array[];
    sizes: number[];
    batchSize: number;
    learningRate: number;
  }): Promise<TorchContender & { parameters(): Promise<(Float32Array | Float64Array | Int32Array)[]> }>;
}
export function suiteContenders(torch: TorchChild): SuiteContenders;

export function torchContender(torch: TorchChild, id: string, name: string, kind?: string): TorchContender;

type Floats = Float32Array | Float64Array;

export function torchKl(torch: TorchChild, p: Floats, q: Floats, name?: string): Promise<TorchContender>;
export function torchXent(
  torch: TorchChild,
  z: Floats,
  y: Int32Array,
  rows: number,
  classes: number,
  name?: string,
): Promise<TorchContender & { gradient(): Promise<Typed> }>;
export function torchTrain(
  torch: TorchChild,
  spec: {
    x: Float32Array;
    y: Int32Array;
    order: Int32Array;
    weights: Float32Array[];
    sizes: number[];
    batchSize: number;
    learningRate: number;
  },
  name?: string,
): Promise<TorchContender & { parameters(): Promise<Typed[]> }>;
