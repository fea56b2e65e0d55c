// Types of bench/reference/train.mjs, for the tests that check it.

export interface Dataset {
  /** samples x inputs, row-major. */
  x: Float32Array;
  /** One class index per sample. */
  y: Int32Array;
}

export function teacherData(options: {
  samples: number;
  inputs: number;
  classes: number;
  seed: number;
}): Dataset;

export function epochOrder(n: number, seed: number): Int32Array;

export interface JsLayer {
  readonly inputs: number;
  readonly outputs: number;
  readonly w: Float32Array;
  readonly b: Float32Array;
  readonly dw: Float32Array;
  readonly db: Float32Array;
}

export class JsMlp {
  constructor(options: { inputs: number; hidden?: readonly number[]; classes: number; seed?: number });
  readonly inputs: number;
  readonly classes: number;
  readonly layers: JsLayer[];
  parameters(): Float32Array[];
  gradients(): Float32Array[];
  forward(x: Float32Array, rows: number): Float32Array;
  backward(dLogits: Float32Array, rows: number): void;
}

export function softmaxCrossEntropy(
  logits: Float32Array,
  labels: Int32Array,
  rows: number,
  classes: number,
  grad: Float32Array,
): number;

export class JsAdam {
  constructor(options?: { learningRate?: number; beta1?: number; beta2?: number; epsilon?: number });
  readonly t: number;
  step(params: Float32Array[], grads: Float32Array[]): void;
}

export function jsTrainer(
  model: JsMlp,
  optimizer: JsAdam,
  data: Dataset,
  options: { batchSize: number; seed: number },
): () => number;
