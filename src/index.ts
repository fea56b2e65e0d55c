// The public surface of klcore, nothing else. Top-level functions use a default instance that
// initialises itself synchronously on first use; init() does it ahead of time (and asynchronously,
// which browsers prefer on the main thread).

import { createInstance, createInstanceSync, Klcore, type BackendInfo } from "./instance.js";
import { chooseBuild, hasFma, hasSimd, type Build, type LoadOptions } from "./wasm/loader.js";
import type { NumericInput } from "./input.js";
import type { DivergenceOptions, EntropyOptions } from "./divergence.js";
import type { Dtype, FloatArray } from "./wasm/memory.js";
import type { Targets } from "./vitargets.js";

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

// Every function below is the Klcore method of the same name (src/instance.ts holds its overloads
// and documentation: one definition of the surface), called on the default instance.
type Method = {
  [K in keyof Klcore]: Klcore[K] extends (...args: never[]) => unknown ? K : never;
}[keyof Klcore];

function onDefault<K extends Method>(name: K): Klcore[K] {
  return ((...args: unknown[]) => {
    const k = instance();
    return (k[name] as (...a: unknown[]) => unknown).apply(k, args);
  }) as Klcore[K];
}

export const backend: Klcore["backend"] = onDefault("backend");
export const alloc: Klcore["alloc"] = onDefault("alloc");

// ---- divergences ----
export const kl: Klcore["kl"] = onDefault("kl");
export const crossEntropy: Klcore["crossEntropy"] = onDefault("crossEntropy");
export const entropy: Klcore["entropy"] = onDefault("entropy");
export const jsDivergence: Klcore["jsDivergence"] = onDefault("jsDivergence");
export const jsDistance: Klcore["jsDistance"] = onDefault("jsDistance");
export const relEntr: Klcore["relEntr"] = onDefault("relEntr");

// ---- the softmax family ----
export const logSumExp: Klcore["logSumExp"] = onDefault("logSumExp");
export const softmax: Klcore["softmax"] = onDefault("softmax");
export const logSoftmax: Klcore["logSoftmax"] = onDefault("logSoftmax");
export const crossEntropyWithLogits: Klcore["crossEntropyWithLogits"] = onDefault("crossEntropyWithLogits");
export const klWithLogits: Klcore["klWithLogits"] = onDefault("klWithLogits");

// ---- elementwise losses ----
export const binaryCrossEntropyWithLogits: Klcore["binaryCrossEntropyWithLogits"] = onDefault(
  "binaryCrossEntropyWithLogits",
);
export const gaussianKL: Klcore["gaussianKL"] = onDefault("gaussianKL");

// ---- models (trained with fit()) ----
export const categorical: Klcore["categorical"] = onDefault("categorical");
export const softmaxRegression: Klcore["softmaxRegression"] = onDefault("softmaxRegression");
export const mlp: Klcore["mlp"] = onDefault("mlp");
export const loadModel: Klcore["loadModel"] = onDefault("loadModel");
export const loadClassifier: Klcore["loadClassifier"] = onDefault("loadClassifier");

// ---- variational inference ----
export const fitVI: Klcore["fitVI"] = onDefault("fitVI");
export const loadVI: Klcore["loadVI"] = onDefault("loadVI");
export const psis: Klcore["psis"] = onDefault("psis");

/** Built-in targets (Gaussian, Bayesian logistic regression, hierarchical normal) in the default instance. */
export const targets: Targets = {
  gaussian: (options) => instance().targets.gaussian(options),
  logisticRegression: (options) => instance().targets.logisticRegression(options),
  hierarchicalNormal: (options) => instance().targets.hierarchicalNormal(options),
};
