// The public surface of klcore, nothing else. Top-level functions use a default instance that
// initialises itself synchronously on first use; init() does it ahead of time (and asynchronously,
// which browsers prefer on the main thread).

import { createInstance, createInstanceSync, Klcore, type BackendInfo } from "./instance.js";
import { chooseBuild, hasFma, hasSimd, type Build, type LoadOptions } from "./wasm/loader.js";
import type { NumericInput } from "./input.js";
import type { DivergenceOptions, EntropyOptions } from "./divergence.js";
import type { LossResult } from "./options.js";
import type {
  ClassIndices,
  CrossEntropyOptions,
  KlWithLogitsOptions,
  LogSumExpOptions,
  SoftmaxOptions,
} from "./softmax.js";
import type { Dtype, FloatArray, WasmArray } from "./wasm/memory.js";
import type { BinaryCrossEntropyOptions } from "./logistic.js";
import type { Gaussian, GaussianKLGrad, GaussianKLOptions } from "./gaussian.js";
import type { CategoricalOptions, MlpOptions, Model, ModelJSON, SoftmaxRegressionOptions } from "./models.js";
import type { VIOptions, VIPosterior, VIPosteriorJSON, VITarget } from "./vi.js";
import type { BuiltinTarget, Targets } from "./vitargets.js";
import type { PsisResult } from "./psis.js";
import type { Classifier, ClassifierJSON } from "./classifier.js";

export type {
  BackendInfo,
  Build,
  DivergenceOptions,
  Dtype,
  EntropyOptions,
  FloatArray,
  LoadOptions,
  NumericInput,
};
export type { Reduction } from "./divergence.js";
export type { LossResult } from "./options.js";
export type {
  ClassIndices,
  CrossEntropyOptions,
  KlWithLogitsOptions,
  LogSumExpOptions,
  SoftmaxOptions,
} from "./softmax.js";
export type { BinaryCrossEntropyOptions } from "./logistic.js";
export type { Gaussian, GaussianGrad, GaussianKLGrad, GaussianKLOptions } from "./gaussian.js";
// Optimisers, schedules and clipping work on WasmArrays, in the instance those arrays belong to.
export type {
  AdagradOptions,
  AdamOptions,
  CosineScheduleOptions,
  LearningRate,
  Optimizer,
  ParamArrays,
  RmspropOptions,
  Schedule,
  SgdOptions,
  StepScheduleOptions,
} from "./optim.js";
export { adagrad, adam, clipGradNorm, cosineSchedule, rmsprop, sgd, stepSchedule } from "./optim.js";
export { WasmArray } from "./wasm/memory.js";
// Models live in an instance's memory; fit() trains one in its own instance.
export type { Activation } from "./linear.js";
export type {
  CategoricalOptions,
  EvaluateOptions,
  Evaluation,
  MlpOptions,
  Model,
  ModelJSON,
  ModelKind,
  ParameterJSON,
  PredictOptions,
  SoftmaxRegressionOptions,
} from "./models.js";
export type { FeatureInput, TargetInput } from "./data.js";
// Feature scaling, and the classifier files of the command line (a model behind its scaling).
export type { FeatureRows, StandardizeOptions, Standardizer, StandardizerJSON } from "./scaling.js";
export { loadStandardizer, standardize } from "./scaling.js";
export type { Classification, Classifier, ClassifierJSON } from "./classifier.js";
export type { LossName } from "./objective.js";
export type {
  BatchInfo,
  EarlyStopping,
  EpochStats,
  FitData,
  FitOptions,
  FitResult,
  StopReason,
  DivergenceReason,
} from "./train.js";
export { holdOut, type HoldOutOptions, type ValidationSplit } from "./split.js";
export { fit } from "./train.js";
// Variational inference: fitVI() in the default instance (Klcore#fitVI in another).
export type {
  VICheck,
  VIConvergence,
  VIDivergence,
  VIFamily,
  VIOptions,
  VIPosteriorJSON,
  VIStep,
  VIStopReason,
  VITarget,
} from "./vi.js";
export { VIPosterior } from "./vi.js";
export type {
  BuiltinTargetName,
  GaussianTargetOptions,
  HierarchicalNormalOptions,
  LogisticRegressionOptions,
  Targets,
} from "./vitargets.js";
export { BuiltinTarget } from "./vitargets.js";
export type { PsisResult } from "./psis.js";
export { Klcore, createInstance, createInstanceSync, hasFma, hasSimd };

let current: Klcore | undefined;

const same = (k: Klcore, options?: LoadOptions): boolean => k.core.build === chooseBuild(options);

/**
 * Loads the default instance (SIMD where the engine has it; `{ simd: false }` forces the scalar
 * build). Idempotent; asking for the other build replaces the default instance, and WasmArrays of
 * the old one can no longer be used.
 */
export async function init(options?: LoadOptions): Promise<BackendInfo> {
  if (current && same(current, options)) return current.backend();
  const created = await createInstance(options);
  // A concurrent init() may have finished first with the same choice: keep that one.
  if (!current || !same(current, options)) current = created;
  return current.backend();
}

/** init(), synchronously. */
export function initSync(options?: LoadOptions): BackendInfo {
  if (!current || !same(current, options)) current = createInstanceSync(options);
  return current.backend();
}

const instance = (): Klcore => (current ??= createInstanceSync());

/** Which build runs and how large its memory is. */
export const backend = (): BackendInfo => instance().backend();

/** A zero-copy array in the default instance's memory. */
export const alloc = <D extends Dtype>(dtype: D, length: number): WasmArray<D> =>
  instance().alloc(dtype, length);

type PerRow = { reduction: "none" };

/** KL(p || q) = sum p ln(p / q) per row; see DivergenceOptions. */
export function kl(p: NumericInput, q: NumericInput, options: DivergenceOptions & PerRow): Float64Array;
export function kl(p: NumericInput, q: NumericInput, options?: DivergenceOptions): number;
export function kl(p: NumericInput, q: NumericInput, options?: DivergenceOptions): number | Float64Array {
  return instance().kl(p, q, options);
}

/** Cross-entropy H(p, q) = -sum p ln q per row. */
export function crossEntropy(
  p: NumericInput,
  q: NumericInput,
  options: DivergenceOptions & PerRow,
): Float64Array;
export function crossEntropy(p: NumericInput, q: NumericInput, options?: DivergenceOptions): number;
export function crossEntropy(
  p: NumericInput,
  q: NumericInput,
  options?: DivergenceOptions,
): number | Float64Array {
  return instance().crossEntropy(p, q, options);
}

/** Entropy H(p) = -sum p ln p per row. */
export function entropy(p: NumericInput, options: EntropyOptions & PerRow): Float64Array;
export function entropy(p: NumericInput, options?: EntropyOptions): number;
export function entropy(p: NumericInput, options?: EntropyOptions): number | Float64Array {
  return instance().entropy(p, options);
}

/** Jensen-Shannon divergence, in [0, ln 2] (nats). */
export function jsDivergence(
  p: NumericInput,
  q: NumericInput,
  options: DivergenceOptions & PerRow,
): Float64Array;
export function jsDivergence(p: NumericInput, q: NumericInput, options?: DivergenceOptions): number;
export function jsDivergence(
  p: NumericInput,
  q: NumericInput,
  options?: DivergenceOptions,
): number | Float64Array {
  return instance().jsDivergence(p, q, options);
}

/** Jensen-Shannon distance sqrt(jsDivergence), as SciPy's jensenshannon. */
export function jsDistance(
  p: NumericInput,
  q: NumericInput,
  options: DivergenceOptions & PerRow,
): Float64Array;
export function jsDistance(p: NumericInput, q: NumericInput, options?: DivergenceOptions): number;
export function jsDistance(
  p: NumericInput,
  q: NumericInput,
  options?: DivergenceOptions,
): number | Float64Array {
  return instance().jsDistance(p, q, options);
}

/** Elementwise rel_entr(p, q) with SciPy's values, into `out` when given. */
export function relEntr<T extends FloatArray>(p: NumericInput, q: NumericInput, out?: T): T {
  return instance().relEntr(p, q, out);
}

// ---- the softmax family ----

/** ln sum exp(z) per row (one value per row), stable for any finite logits. */
export function logSumExp(logits: NumericInput, options?: LogSumExpOptions): Float64Array {
  return instance().logSumExp(logits, options);
}

/** softmax(z / T) per row, in the logits' precision. */
export function softmax<T extends FloatArray = FloatArray>(
  logits: NumericInput,
  options?: SoftmaxOptions,
): T {
  return instance().softmax<T>(logits, options);
}

/** log softmax(z / T) per row, in the logits' precision. */
export function logSoftmax<T extends FloatArray = FloatArray>(
  logits: NumericInput,
  options?: SoftmaxOptions,
): T {
  return instance().logSoftmax<T>(logits, options);
}

/** Softmax cross-entropy of class indices or probability targets, fused with its gradient. */
export function crossEntropyWithLogits(
  target: ClassIndices | NumericInput,
  logits: NumericInput,
  options: CrossEntropyOptions & PerRow,
): LossResult<Float64Array>;
export function crossEntropyWithLogits(
  target: ClassIndices | NumericInput,
  logits: NumericInput,
  options: CrossEntropyOptions,
): LossResult;
export function crossEntropyWithLogits(
  target: ClassIndices | NumericInput,
  logits: NumericInput,
  options: CrossEntropyOptions,
): LossResult<number | Float64Array> {
  return instance().crossEntropyWithLogits(target, logits, options as CrossEntropyOptions & PerRow);
}

/** KL(p || softmax(z / T)) of probability targets, fused with its gradient. */
export function klWithLogits(
  target: NumericInput,
  logits: NumericInput,
  options: KlWithLogitsOptions & PerRow,
): LossResult<Float64Array>;
export function klWithLogits(
  target: NumericInput,
  logits: NumericInput,
  options: KlWithLogitsOptions,
): LossResult;
export function klWithLogits(
  target: NumericInput,
  logits: NumericInput,
  options: KlWithLogitsOptions,
): LossResult<number | Float64Array> {
  return instance().klWithLogits(target, logits, options as KlWithLogitsOptions & PerRow);
}

// ---- elementwise losses ----

/** Binary cross-entropy of targets in [0, 1] against sigmoid(logits), fused with its gradient. */
export function binaryCrossEntropyWithLogits(
  target: NumericInput,
  logits: NumericInput,
  options: BinaryCrossEntropyOptions & PerRow,
): LossResult<Float64Array>;
export function binaryCrossEntropyWithLogits(
  target: NumericInput,
  logits: NumericInput,
  options?: BinaryCrossEntropyOptions,
): LossResult;
export function binaryCrossEntropyWithLogits(
  target: NumericInput,
  logits: NumericInput,
  options?: BinaryCrossEntropyOptions,
): LossResult<number | Float64Array> {
  return instance().binaryCrossEntropyWithLogits(target, logits, options);
}

/** KL(p || q) of diagonal Gaussians per row of `dims`; q absent or null: the standard normal. */
export function gaussianKL(
  p: Gaussian,
  q: Gaussian | null | undefined,
  options: GaussianKLOptions & PerRow,
): LossResult<Float64Array, GaussianKLGrad>;
export function gaussianKL(
  p: Gaussian,
  q?: Gaussian | null,
  options?: GaussianKLOptions,
): LossResult<number, GaussianKLGrad>;
export function gaussianKL(
  p: Gaussian,
  q?: Gaussian | null,
  options?: GaussianKLOptions,
): LossResult<number | Float64Array, GaussianKLGrad> {
  return instance().gaussianKL(p, q, options);
}

// ---- models (trained with fit()) ----

/** A free categorical distribution softmax(theta) over `classes`, starting uniform. */
export const categorical = (options: CategoricalOptions): Model => instance().categorical(options);

/** Multinomial logistic regression, logits = x W + b (W Glorot-uniform, seeded). */
export const softmaxRegression = (options: SoftmaxRegressionOptions): Model =>
  instance().softmaxRegression(options);

/** A multilayer perceptron with relu or tanh hidden layers (He or Glorot initialisation, seeded). */
export const mlp = (options: MlpOptions): Model => instance().mlp(options);

/** A model saved with toJSON() (the object or its JSON text), in the default instance. */
export const loadModel = (json: ModelJSON | string): Model => instance().loadModel(json);

/**
 * A classifier file written by `klcore train` (the object or its JSON text), in the default
 * instance: predict() takes the features as they are in the data, applies the file's scaling and
 * gives the probabilities and the predicted labels.
 */
export const loadClassifier = (json: ClassifierJSON | string): Classifier => instance().loadClassifier(json);

// ---- variational inference ----

/** Fits a Gaussian q to ln p(x, z) by maximising the ELBO (in the default instance); see VIOptions. */
export const fitVI = (target: VITarget | BuiltinTarget, options?: VIOptions): Promise<VIPosterior> =>
  instance().fitVI(target, options);

/** A posterior saved with toJSON() (the object or its JSON text), in the default instance. */
export const loadVI = (json: VIPosteriorJSON | string): VIPosterior => instance().loadVI(json);

/** Built-in targets (Gaussian, Bayesian logistic regression, hierarchical normal) in the default instance. */
export const targets: Targets = {
  gaussian: (options) => instance().targets.gaussian(options),
  logisticRegression: (options) => instance().targets.logisticRegression(options),
  hierarchicalNormal: (options) => instance().targets.hierarchicalNormal(options),
};

/** Pareto-smoothed importance sampling of log-weights (in the default instance): k and the smoothed weights. */
export const psis = (logWeights: ArrayLike<number>): PsisResult => instance().psis(logWeights);
