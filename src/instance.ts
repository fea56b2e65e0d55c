// An independent klcore instance: one wasm module instance with its own memory and scratch. The
// package's top-level functions use a default instance; createInstance() makes more (a scalar one
// beside a SIMD one for comparison, or one per worker).

import { Core, load, loadSync, type Build, type LoadOptions } from "./wasm/loader.js";
import { Scratch, WasmArray, type Dtype, type FloatArray } from "./wasm/memory.js";
import type { NumericInput } from "./input.js";
import {
  CROSS_ENTROPY,
  divergence,
  ENTROPY,
  JS_DISTANCE,
  JS_DIVERGENCE,
  KL,
  relEntr,
  type DivergenceOptions,
  type EntropyOptions,
} from "./divergence.js";
import {
  crossEntropyWithLogits,
  logSumExp,
  softmax,
  type ClassIndices,
  type CrossEntropyOptions,
  type KlWithLogitsOptions,
  type LogSumExpOptions,
  type SoftmaxOptions,
} from "./softmax.js";
import type { LossResult } from "./options.js";
import { probabilityLossWithLogits, type ProbabilityLoss, type ProbabilityLossOptions } from "./probloss.js";
import { binaryCrossEntropyWithLogits, type BinaryCrossEntropyOptions } from "./logistic.js";
import { gaussianKL, type Gaussian, type GaussianKLGrad, type GaussianKLOptions } from "./gaussian.js";
import {
  activate,
  activateBackward,
  denseBackward,
  denseForward,
  type DenseGrads,
  type DenseShape,
  type LayerArray,
} from "./linear.js";
import {
  categorical,
  loadModel,
  mlp,
  softmaxRegression,
  type CategoricalOptions,
  type MlpOptions,
  type Model,
  type ModelJSON,
  type SoftmaxRegressionOptions,
} from "./models.js";
import { fitVI, loadVI, VIPosterior, type VIOptions, type VIPosteriorJSON, type VITarget } from "./vi.js";
import { targetsFor, type BuiltinTarget, type Targets } from "./vitargets.js";
import { psis, type PsisResult } from "./psis.js";
import { loadClassifier, type Classifier, type ClassifierJSON } from "./classifier.js";

export interface BackendInfo {
  /** Whether the SIMD build runs. */
  readonly simd: boolean;
  /** Which build runs: 'fma' is the opt-in FMA build (a SIMD build; LoadOptions.fma). */
  readonly build: Build;
  /** Current size of the instance's WebAssembly memory, in bytes. */
  readonly memoryBytes: number;
}

type PerRow = { reduction: "none" };

export class Klcore {
  /** @internal */ readonly core: Core;
  private readonly scratch: Scratch;

  /** @internal Use createInstance() or createInstanceSync(). */
  constructor(core: Core) {
    this.core = core;
    this.scratch = new Scratch(core);
  }

  backend(): BackendInfo {
    return {
      simd: this.core.simd,
      build: this.core.build,
      memoryBytes: this.core.memoryBuffer.byteLength,
    };
  }

  /** A zero-copy array in this instance's memory: fill `.array`, pass the handle, `free()` it. */
  alloc<D extends Dtype>(dtype: D, length: number): WasmArray<D> {
    return new WasmArray(this.core, dtype, length);
  }

  /** KL(p || q) = sum p ln(p / q) per row. */
  kl(p: NumericInput, q: NumericInput, options: DivergenceOptions & PerRow): Float64Array;
  kl(p: NumericInput, q: NumericInput, options?: DivergenceOptions): number;
  kl(p: NumericInput, q: NumericInput, options?: DivergenceOptions): number | Float64Array {
    return divergence(this.core, this.scratch, KL, p, q, options);
  }

  /** H(p, q) = -sum p ln q per row. */
  crossEntropy(p: NumericInput, q: NumericInput, options: DivergenceOptions & PerRow): Float64Array;
  crossEntropy(p: NumericInput, q: NumericInput, options?: DivergenceOptions): number;
  crossEntropy(p: NumericInput, q: NumericInput, options?: DivergenceOptions): number | Float64Array {
    return divergence(this.core, this.scratch, CROSS_ENTROPY, p, q, options);
  }

  /** H(p) = -sum p ln p per row. */
  entropy(p: NumericInput, options: EntropyOptions & PerRow): Float64Array;
  entropy(p: NumericInput, options?: EntropyOptions): number;
  entropy(p: NumericInput, options?: EntropyOptions): number | Float64Array {
    return divergence(this.core, this.scratch, ENTROPY, p, undefined, options);
  }

  /** Jensen-Shannon divergence KL(p || m)/2 + KL(q || m)/2, m = (p + q)/2, in [0, ln 2]. */
  jsDivergence(p: NumericInput, q: NumericInput, options: DivergenceOptions & PerRow): Float64Array;
  jsDivergence(p: NumericInput, q: NumericInput, options?: DivergenceOptions): number;
  jsDivergence(p: NumericInput, q: NumericInput, options?: DivergenceOptions): number | Float64Array {
    return divergence(this.core, this.scratch, JS_DIVERGENCE, p, q, options);
  }

  /** Jensen-Shannon distance: the square root of jsDivergence (SciPy's jensenshannon). */
  jsDistance(p: NumericInput, q: NumericInput, options: DivergenceOptions & PerRow): Float64Array;
  jsDistance(p: NumericInput, q: NumericInput, options?: DivergenceOptions): number;
  jsDistance(p: NumericInput, q: NumericInput, options?: DivergenceOptions): number | Float64Array {
    return divergence(this.core, this.scratch, JS_DISTANCE, p, q, options);
  }

  /** Elementwise rel_entr(p, q) (SciPy), into `out` when given. */
  relEntr<T extends FloatArray>(p: NumericInput, q: NumericInput, out?: T): T;
  relEntr(p: NumericInput, q: NumericInput, out?: FloatArray): FloatArray {
    return relEntr(this.core, this.scratch, p, q, out);
  }

  // ---- the softmax family (src/softmax.ts) ----

  /** ln sum exp(z) per row, stable for any finite logits. */
  logSumExp(logits: NumericInput, options?: LogSumExpOptions): Float64Array {
    return logSumExp(this.core, this.scratch, logits, options);
  }

  /** softmax(z / T) per row, in the logits' precision. */
  softmax<T extends FloatArray = FloatArray>(logits: NumericInput, options?: SoftmaxOptions): T;
  softmax(logits: NumericInput, options?: SoftmaxOptions): FloatArray {
    return softmax(this.core, this.scratch, logits, options, false);
  }

  /** log softmax(z / T) per row, in the logits' precision. */
  logSoftmax<T extends FloatArray = FloatArray>(logits: NumericInput, options?: SoftmaxOptions): T;
  logSoftmax(logits: NumericInput, options?: SoftmaxOptions): FloatArray {
    return softmax(this.core, this.scratch, logits, options, true);
  }

  /** Softmax cross-entropy of class indices or probability targets, fused with its gradient. */
  crossEntropyWithLogits(
    target: ClassIndices | NumericInput,
    logits: NumericInput,
    options: CrossEntropyOptions & PerRow,
  ): LossResult<Float64Array>;
  crossEntropyWithLogits(
    target: ClassIndices | NumericInput,
    logits: NumericInput,
    options: CrossEntropyOptions,
  ): LossResult;
  crossEntropyWithLogits(
    target: ClassIndices | NumericInput,
    logits: NumericInput,
    options: CrossEntropyOptions,
  ): LossResult<number | Float64Array> {
    return crossEntropyWithLogits(this.core, this.scratch, target, logits, options, false);
  }

  /** KL(p || softmax(z / T)) of probability targets, fused with its gradient. */
  klWithLogits(
    target: NumericInput,
    logits: NumericInput,
    options: KlWithLogitsOptions & PerRow,
  ): LossResult<Float64Array>;
  klWithLogits(target: NumericInput, logits: NumericInput, options: KlWithLogitsOptions): LossResult;
  klWithLogits(
    target: NumericInput,
    logits: NumericInput,
    options: KlWithLogitsOptions,
  ): LossResult<number | Float64Array> {
    return crossEntropyWithLogits(this.core, this.scratch, target, logits, options, true);
  }

  /**
   * @internal MSE, L1 or Jensen-Shannon of probability targets against softmax(z / T), summed over
   * classes per row, fused with the exact gradient w.r.t. the logits (src/probloss.ts).
   */
  probabilityLossWithLogits(
    kind: ProbabilityLoss,
    target: NumericInput,
    logits: NumericInput,
    options: ProbabilityLossOptions & PerRow,
  ): LossResult<Float64Array>;
  probabilityLossWithLogits(
    kind: ProbabilityLoss,
    target: NumericInput,
    logits: NumericInput,
    options: ProbabilityLossOptions,
  ): LossResult;
  probabilityLossWithLogits(
    kind: ProbabilityLoss,
    target: NumericInput,
    logits: NumericInput,
    options: ProbabilityLossOptions,
  ): LossResult<number | Float64Array> {
    return probabilityLossWithLogits(this.core, this.scratch, kind, target, logits, options);
  }

  // ---- elementwise losses (src/logistic.ts, src/gaussian.ts) ----

  /** Binary cross-entropy of targets in [0, 1] against sigmoid(logits), fused with its gradient. */
  binaryCrossEntropyWithLogits(
    target: NumericInput,
    logits: NumericInput,
    options: BinaryCrossEntropyOptions & PerRow,
  ): LossResult<Float64Array>;
  binaryCrossEntropyWithLogits(
    target: NumericInput,
    logits: NumericInput,
    options?: BinaryCrossEntropyOptions,
  ): LossResult;
  binaryCrossEntropyWithLogits(
    target: NumericInput,
    logits: NumericInput,
    options?: BinaryCrossEntropyOptions,
  ): LossResult<number | Float64Array> {
    return binaryCrossEntropyWithLogits(this.core, this.scratch, target, logits, options);
  }

  /** KL(p || q) of diagonal Gaussians (q absent: the standard normal), fused with its gradient. */
  gaussianKL(
    p: Gaussian,
    q: Gaussian | null | undefined,
    options: GaussianKLOptions & PerRow,
  ): LossResult<Float64Array, GaussianKLGrad>;
  gaussianKL(
    p: Gaussian,
    q?: Gaussian | null,
    options?: GaussianKLOptions,
  ): LossResult<number, GaussianKLGrad>;
  gaussianKL(
    p: Gaussian,
    q?: Gaussian | null,
    options?: GaussianKLOptions,
  ): LossResult<number | Float64Array, GaussianKLGrad> {
    return gaussianKL(this.core, this.scratch, p, q, options);
  }

  // ---- dense layers (src/linear.ts): internal until the models that use them ship ----

  /** @internal y = x W + b (b null: no bias). */
  denseForward(x: LayerArray, w: LayerArray, b: LayerArray | null, y: LayerArray, shape: DenseShape): void {
    denseForward(this.core, x, w, b, y, shape);
  }

  /** @internal dW = x^T dy, db = column sums of dy, dx = dy W^T. */
  denseBackward(x: LayerArray, w: LayerArray, dy: LayerArray, grads: DenseGrads, shape: DenseShape): void {
    denseBackward(this.core, x, w, dy, grads, shape);
  }

  /** @internal y = relu(x) or tanh(x) elementwise. */
  activate(fn: "relu" | "tanh", x: LayerArray, y: LayerArray, n?: number): void {
    activate(this.core, fn, x, y, n);
  }

  /** @internal dx = dy f'(x) from the forward output y. */
  activateBackward(fn: "relu" | "tanh", y: LayerArray, dy: LayerArray, dx: LayerArray, n?: number): void {
    activateBackward(this.core, fn, y, dy, dx, n);
  }

  // ---- models (src/models.ts); fit() (src/train.ts) trains any of them ----

  /** A free categorical distribution softmax(theta) over `classes`, starting uniform (theta = 0). */
  categorical(options: CategoricalOptions): Model {
    return categorical(this.core, this.scratch, options);
  }

  /** Multinomial logistic regression: logits = x W + b. */
  softmaxRegression(options: SoftmaxRegressionOptions): Model {
    return softmaxRegression(this.core, this.scratch, options);
  }

  /** A multilayer perceptron: dense -> activation per hidden layer, then dense to the logits. */
  mlp(options: MlpOptions): Model {
    return mlp(this.core, this.scratch, options);
  }

  /** A model saved by toJSON() (the object or its JSON text), in this instance. */
  loadModel(json: ModelJSON | string): Model {
    return loadModel(this.core, this.scratch, json);
  }

  /**
   * A classifier file written by `klcore train` (the object or its JSON text), in this instance:
   * its model with the feature scaling and labels it was trained with.
   */
  loadClassifier(json: ClassifierJSON | string): Classifier {
    return loadClassifier(this.core, this.scratch, json);
  }

  // ---- variational inference (src/vi.ts, src/vitargets.ts) ----

  /** Fits a Gaussian q to ln p(x, z) by maximising the ELBO, in this instance. */
  fitVI(target: VITarget | BuiltinTarget, options?: VIOptions): Promise<VIPosterior> {
    return fitVI(this.core, target, options);
  }

  /** A posterior saved by toJSON() (the object or its JSON text), in this instance. */
  loadVI(json: VIPosteriorJSON | string): VIPosterior {
    return loadVI(this.core, json);
  }

  /** Pareto-smoothed importance sampling of log-weights: the Pareto k and the smoothed weights. */
  psis(logWeights: ArrayLike<number>): PsisResult {
    return psis(this.core, logWeights);
  }

  private builtinTargets: Targets | undefined;

  /** Built-in targets whose log density and gradient run in wasm. */
  get targets(): Targets {
    return (this.builtinTargets ??= targetsFor(() => this.core));
  }
}

/** A new independent instance (its own memory), compiled asynchronously. */
export async function createInstance(options?: LoadOptions): Promise<Klcore> {
  return new Klcore(await load(options));
}

/** A new independent instance, compiled synchronously. */
export function createInstanceSync(options?: LoadOptions): Klcore {
  return new Klcore(loadSync(options));
}
