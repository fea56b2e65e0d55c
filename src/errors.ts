// Every error klcore throws, in one place. A message names the argument, and where it applies the
// row, index and value, so the caller can find the bad element without a debugger.

import { FLOAT_INDEX_TAGS, INDEX_ARRAY_TAGS } from "./tags.js";

const INDEX_ARRAY_NAMES = INDEX_ARRAY_TAGS.join(", ");
const FLOAT_INDEX_NAMES = FLOAT_INDEX_TAGS.join(" or ");

const show = (v: unknown): string =>
  typeof v === "number"
    ? Object.is(v, -0)
      ? "-0"
      : String(v)
    : typeof v === "string"
      ? JSON.stringify(v)
      : Array.isArray(v)
        ? "an array"
        : v === null
          ? "null"
          : typeof v === "object"
            ? ((v as object).constructor?.name ?? "an object")
            : typeof v;

export const notNumericArray = (name: string, value: unknown): TypeError =>
  new TypeError(`${name} must be a Float32Array, a Float64Array or an array of numbers; got ${show(value)}`);

export const notANumberAt = (name: string, index: number, value: unknown): TypeError =>
  new TypeError(`${name}[${index}] must be a number; got ${show(value)}`);

export const mixedPrecision = (a: string, aType: string, b: string, bType: string): TypeError =>
  new TypeError(
    `${a} and ${b} must have the same precision; got ${a}: ${aType} and ${b}: ${bType} ` +
      "(number[] counts as float64)",
  );

export const lengthMismatch = (a: string, na: number, b: string, nb: number): RangeError =>
  new RangeError(`${a} and ${b} must have the same length; got ${na} and ${nb}`);

export const emptyInput = (name: string): RangeError => new RangeError(`${name} must not be empty`);

export const badClasses = (value: unknown, length: number, name = "classes"): RangeError =>
  new RangeError(`${name} must be a positive integer dividing the length ${length}; got ${show(value)}`);

/** A probability of a divergence's p or q, a soft target, or a row of fit's y (index = row x C + class). */
export const badElement = (name: string, index: number, value: unknown, row: number): RangeError =>
  new RangeError(`${name}[${index}] (row ${row}) must be a finite probability >= 0; got ${show(value)}`);

/** A log-probability of a divergence's p or q (logP, logQ) or of a target (logTarget). */
export const badLogElement = (name: string, index: number, value: number, row: number): RangeError =>
  new RangeError(
    `${name}[${index}] (row ${row}) must be a natural log of a probability (finite or -Infinity); ` +
      `got ${show(value)}`,
  );

/** A row of a distribution off 1: a divergence's p or q (whose options can fix it), or fit's y. */
export const rowSumOff = (
  name: string,
  row: number,
  sum: number,
  tolerance: number,
  softTargets = false,
): RangeError =>
  new RangeError(
    `${name} row ${row} sums to ${sum}, not 1 (tolerance ${tolerance.toExponential(1)}); ` +
      (softTargets
        ? "soft targets must be probability distributions"
        : "pass { normalize: true } to normalise the rows, or { generalized: true } for unnormalised " +
          "measures (a row of log-probabilities needs { logP: true } or { logQ: true })"),
  );

export const rowNotNormalizable = (name: string, row: number, sum: number): RangeError =>
  new RangeError(`${name} row ${row} sums to ${sum}; normalize needs a positive finite sum`);

export const badBase = (value: unknown): RangeError =>
  new RangeError(`base must be a finite number > 0 and != 1; got ${show(value)}`);

export const badReduction = (value: unknown): RangeError =>
  new RangeError(`reduction must be one of 'none', 'sum', 'mean', 'batchmean'; got ${show(value)}`);

export const badOption = (name: string, expected: string, value: unknown): TypeError =>
  new TypeError(`${name} must be ${expected}; got ${show(value)}`);

/** A positive finite number out of range: temperature, a target's dim or scale. */
export const badPositive = (name: string, value: unknown): RangeError =>
  new RangeError(`${name} must be a finite number > 0; got ${show(value)}`);

export const unknownOption = (
  fn: string,
  name: string,
  known: readonly string[],
  suggestion: string | null = null,
): TypeError =>
  new TypeError(
    `${fn}: unknown option '${name}'${suggestion === null ? "" : ` (did you mean '${suggestion}'?)`}; ` +
      `known options: ${known.join(", ")}`,
  );

export const outTooSmall = (name: string, need: number, got: number): RangeError =>
  new RangeError(`${name} is too small: needs ${need} elements, has ${got}`);

export const outOfMemory = (bytes: number): RangeError =>
  new RangeError(
    `cannot allocate ${bytes} bytes in WebAssembly memory (the limit is 4 GiB in all and ` +
      "1 GiB per buffer); the module is still usable",
  );

export const badLength = (value: unknown): RangeError =>
  new RangeError(`length must be a non-negative integer; got ${show(value)}`);

export const badDtype = (value: unknown): TypeError =>
  new TypeError(`dtype must be 'float32' or 'float64'; got ${show(value)}`);

export const freedBuffer = (): Error =>
  new Error("this WasmArray was freed, or belongs to a backend that was replaced by init()");

export const noWebAssembly = (): Error =>
  new Error(
    "WebAssembly is not available in this environment; klcore needs it (in a browser with a " +
      "Content-Security-Policy, allow 'wasm-unsafe-eval')",
  );

export const wasmBlocked = (cause: unknown): Error =>
  new Error(
    "WebAssembly compilation was refused, most likely by a Content-Security-Policy: allow it with " +
      "script-src 'wasm-unsafe-eval' (no 'unsafe-eval' needed)",
    { cause },
  );

export const noSimdSupport = (): Error =>
  new Error("{ simd: true } was requested but this engine cannot run WebAssembly SIMD");

export const noFmaSupport = (): Error =>
  new Error(
    "{ fma: true } was requested but this engine cannot run WebAssembly relaxed SIMD " +
      "(Chromium 114+, Firefox 120+ and Node 22+ can; Node 20 needs --experimental-wasm-relaxed-simd): " +
      "check hasFma() first, or leave fma out for the SIMD build",
  );

export const fmaWithoutSimd = (): TypeError =>
  new TypeError("{ fma: true } is a SIMD build: it cannot be combined with { simd: false }");

export const badFmaOption = (value: unknown): TypeError =>
  new TypeError(`fma must be a boolean; got ${show(value)}`);

// ---- the softmax family ------------------------------------------------------------------------

export const classesRequired = (fn: string): TypeError =>
  new TypeError(`${fn}: the option classes (the row length) is required`);

export const badLogit = (index: number, row: number, value: number): RangeError =>
  new RangeError(`logits[${index}] (row ${row}) must be finite or -Infinity; got ${show(value)}`);

export const noFiniteLogit = (row: number): RangeError =>
  new RangeError(`logits row ${row} has no finite value (every logit is -Infinity)`);

/**
 * A class index out of range: crossEntropyWithLogits's target (which has an ignoreIndex), or fit's
 * and evaluate's y (ignoreIndex null). A fraction in [0, 1] was most likely meant as a probability.
 */
export const badClassIndex = (
  name: string,
  row: number,
  value: unknown,
  classes: number,
  ignoreIndex: number | null,
): RangeError =>
  new RangeError(
    `${name}[${row}] must be a class index, an integer in [0, ${classes})` +
      (ignoreIndex === null ? "" : ` or the ignoreIndex ${ignoreIndex}`) +
      `; got ${show(value)}` +
      (typeof value === "number" && !Number.isInteger(value) && value >= 0 && value <= 1
        ? ` (probability targets must be ${ignoreIndex === null ? "a Float32Array, a Float64Array or number[][]" : "a Float32Array or a Float64Array"})`
        : ""),
  );

export const targetSizeMismatch = (length: number, rows: number, classes: number, kl = false): RangeError =>
  new RangeError(
    kl
      ? `target has ${length} elements; expected ${rows * classes} probabilities (${rows} rows x ${classes} ` +
          `classes)` +
          (length === rows
            ? `; klWithLogits takes no class indices: use crossEntropyWithLogits for them`
            : "")
      : `target has ${length} elements; expected ${rows} class indices or ${rows * classes} probabilities ` +
          `(${rows} rows x ${classes} classes)`,
  );

export const notTargetArray = (value: unknown): TypeError =>
  new TypeError(
    `target must be class indices (${INDEX_ARRAY_NAMES}, number[], or ${FLOAT_INDEX_NAMES} of one ` +
      `integer per row) or probabilities (${FLOAT_INDEX_NAMES} of rows x classes); got ${show(value)}`,
  );

export const klTargetNotProbabilities = (value: unknown): TypeError =>
  new TypeError(
    `klWithLogits's target must be probabilities (${FLOAT_INDEX_NAMES} of rows x classes, the ` +
      `logits' precision, or a WasmArray); got ${show(value)}. For class indices use ` +
      `crossEntropyWithLogits, which is the KL to one-hot targets`,
  );

/** A float array of one value per row, read as class indices, holding something else. */
export const floatIndicesRejected = (
  tag: string,
  row: number,
  value: number,
  rows: number,
  classes: number,
  ignoreIndex: number,
): RangeError =>
  new RangeError(
    `target is a ${tag} of ${rows} values, one per row, so it is read as class indices, but ` +
      `target[${row}] = ${show(value)} is not an integer in [0, ${classes}) nor the ignoreIndex ` +
      `${ignoreIndex}. Pass class indices as integers (an Int32Array or number[]), or probabilities as ` +
      `a ${tag} of ${rows} rows x ${classes} classes (${rows * classes} values)`,
  );

export const weightsLength = (length: number, classes: number): RangeError =>
  new RangeError(`weights must have one value per class (${classes}); got ${length}`);

export const badWeight = (index: number, value: number): RangeError =>
  new RangeError(`weights[${index}] must be finite and >= 0; got ${show(value)}`);

export const badSmoothing = (value: unknown): RangeError =>
  new RangeError(`labelSmoothing must be a number in [0, 1]; got ${show(value)}`);

export const badIgnoreIndex = (value: unknown): TypeError =>
  new TypeError(`ignoreIndex must be an integer in [-2^31, 2^31); got ${show(value)}`);

// ---- probability losses on logits: mse, l1, js (src/probloss.ts) ------------------------------

export const badProbabilityLoss = (value: unknown): TypeError =>
  new TypeError(`the loss kind must be one of 'mse', 'l1', 'js'; got ${show(value)}`);

// ---- elementwise losses: binaryCrossEntropyWithLogits, gaussianKL -------------------------------

export const badBinaryTarget = (index: number, row: number, value: number): RangeError =>
  new RangeError(`target[${index}] (row ${row}) must be a probability in [0, 1]; got ${show(value)}`);

export const notFiniteAt = (name: string, index: number, row: number, value: number): RangeError =>
  new RangeError(`${name}[${index}] (row ${row}) must be finite; got ${show(value)}`);

export const notGaussian = (name: string, value: unknown): TypeError =>
  new TypeError(`${name} must be an object { mean, logVar } of numeric arrays; got ${show(value)}`);

// ---- optimisers, schedules and gradient clipping ----------------------------------------------

// An option or hyperparameter outside its range (a count, a rate, a decay): the one message for both.
export const badHyperparameter = (name: string, expected: string, value: unknown): RangeError =>
  new RangeError(`${name} must be ${expected}; got ${show(value)}`);

export const optionRequired = (fn: string, name: string): TypeError =>
  new TypeError(`${fn}: the option ${name} is required`);

export const nesterovNeedsMomentum = (momentum: number, dampening: number): RangeError =>
  new RangeError(
    `nesterov needs momentum > 0 and dampening 0; got momentum ${show(momentum)} and dampening ${show(dampening)}`,
  );

export const badScheduledRate = (step: number, value: unknown): RangeError =>
  new RangeError(`learningRate(${step}) must return a finite number >= 0; got ${show(value)}`);

export const badScheduleStep = (value: unknown): RangeError =>
  new RangeError(`a schedule's step must be an integer >= 0; got ${show(value)}`);

export const notArrayList = (name: string, value: unknown): TypeError =>
  new TypeError(`${name} must be an array of float32 WasmArrays; got ${show(value)}`);

export const notFloat32WasmArray = (name: string, index: number, value: unknown): TypeError =>
  new TypeError(
    `${name}[${index}] must be a float32 WasmArray (alloc("float32", n)); got ` +
      (value !== null && typeof value === "object" && "dtype" in value && typeof value.dtype === "string"
        ? `a ${value.dtype} WasmArray`
        : show(value)),
  );

export const arrayCountMismatch = (params: number, grads: number): RangeError =>
  new RangeError(`grads must hold one array per parameter array; got ${params} params and ${grads} grads`);

export const otherInstance = (name: string, index: number, reference: string): TypeError =>
  new TypeError(`${name}[${index}] belongs to another klcore instance than ${reference}; all must share one`);

export const duplicateParam = (index: number, first: number): TypeError =>
  new TypeError(`params[${index}] is the same array as params[${first}]; pass each parameter array once`);

export const paramsChanged = (detail: string): TypeError =>
  new TypeError(
    `${detail}: an optimizer keeps state per parameter array from its first step; call reset() ` +
      "to start over with other parameters",
  );

export const optimizerDisposed = (): Error => new Error("this optimizer was disposed");

export const nonFiniteNorm = (norm: number): RangeError =>
  new RangeError(`the total norm of the gradients is ${show(norm)}; clipGradNorm leaves them unchanged`);

// ---- dense layers and activations (src/linear.ts) ----------------------------------------------

export const notLayerArray = (name: string, value: unknown): TypeError =>
  new TypeError(
    `${name} must be a float32 WasmArray of this instance (alloc("float32", n)) or a Float32Array ` +
      `view of its memory; got ${show(value)}`,
  );

export const layerArrayLength = (name: string, length: number, need: number, shape: string): RangeError =>
  new RangeError(`${name} must have ${need} elements (${shape}); got ${length}`);

export const layerArrayTooShort = (name: string, length: number, need: number, shape: string): RangeError =>
  new RangeError(`${name} has ${length} elements; ${shape} needs at least ${need}`);

export const layerOverlap = (output: string, other: string): RangeError =>
  new RangeError(`${output} must not overlap ${other} in memory`);

// ---- models: categorical, softmax regression, MLP (src/models.ts) -------------------------------

export const badSeed = (value: unknown): RangeError =>
  new RangeError(`seed must be an integer; got ${show(value)}`);

export const notRowMultiple = (name: string, length: number, cols: string, n: number): RangeError =>
  new RangeError(`${name} has ${length} elements, not a multiple of ${cols} (${n}): not whole rows`);

export const tooFewRows = (name: string, have: number, rows: number): RangeError =>
  new RangeError(`${name} holds ${have} rows; rows is ${rows}`);

export const backwardRows = (rows: number, last: number | undefined): RangeError =>
  new RangeError(
    last === undefined
      ? "backward needs a forward first: it uses the activations of the last forward"
      : `backward must use the rows of the last forward (${last}); got ${rows}`,
  );

export const modelDisposed = (): Error => new Error("this model was disposed");

// ---- training data, objectives and fit (src/data.ts, src/objective.ts, src/train.ts) -----------

export const notFeatureArray = (name: string, value: unknown): TypeError =>
  new TypeError(
    `${name} must be a Float32Array or Float64Array of rows x inputs, an array of rows (number[][]), a ` +
      `flat number[] or a float32 WasmArray; got ${show(value)}`,
  );

export const featureNotNumber = (name: string, row: number, col: number, value: unknown): TypeError =>
  new TypeError(`${name} row ${row}, column ${col} must be a number; got ${show(value)}`);

export const featureNotFinite = (name: string, row: number, col: number, value: number): RangeError =>
  new RangeError(`${name} row ${row}, column ${col} must be finite (in float32 range); got ${show(value)}`);

export const xChangedDuringFit = (): RangeError =>
  new RangeError(
    "x changed while fit() was training: a batch held a value that is not finite, which x no longer does",
  );

export const raggedRow = (name: string, row: number, length: number, inputs: number): RangeError =>
  new RangeError(`${name} row ${row} has ${length} values; the model takes ${inputs} inputs`);

export const noRows = (name: string): RangeError => new RangeError(`${name} has no rows`);

export const rowsDiffer = (xRows: number, yRows: number): RangeError =>
  new RangeError(`x has ${xRows} rows but y has ${yRows}: every row of x needs its target`);

export const notTargets = (value: unknown): TypeError =>
  new TypeError(
    `y must be class indices (${INDEX_ARRAY_NAMES} or number[]) or ` +
      `probabilities (Float32Array or Float64Array of rows x classes, or number[][]); got ${show(value)}`,
  );

export const targetShape = (length: number, rows: number, classes: number): RangeError =>
  new RangeError(
    `y holds ${length} probabilities; ${rows} rows x ${classes} classes need ${rows * classes}` +
      (length === rows
        ? ` (one value per row is read as class indices only when every value is an integer in ` +
          `[0, ${classes}); else pass an Int32Array)`
        : ""),
  );

export const targetRowLength = (row: number, length: number, classes: number): RangeError =>
  new RangeError(`y row ${row} has ${length} probabilities; the model has ${classes} classes`);

export const badLossName = (value: unknown): TypeError =>
  new TypeError(`loss must be one of 'kl', 'cross-entropy', 'mse', 'l1', 'js'; got ${show(value)}`);

export const badOptimizerName = (value: unknown): TypeError =>
  new TypeError(
    "optimizer must be one of 'adam', 'sgd', 'rmsprop', 'adagrad' or an optimizer made by adam(), " +
      `sgd(), rmsprop() or adagrad(); got ${show(value)}`,
  );

export const rateWithOptimizer = (): TypeError =>
  new TypeError(
    "learningRate applies to an optimizer given by name; an optimizer object carries its own rate",
  );

/** A count out of range: epochs, batch sizes, rows, layer widths. */
export const badValidationSplit = (value: unknown, rows: number): RangeError =>
  new RangeError(
    `validation as a fraction must be in (0, 1) and leave at least one row on each side of the ` +
      `${rows} rows; got ${show(value)}`,
  );

export const notCallback = (name: string, value: unknown): TypeError =>
  new TypeError(`${name} must be a function; got ${show(value)}`);

export const notAbortSignal = (value: unknown): TypeError =>
  new TypeError(`signal must be an AbortSignal; got ${show(value)}`);

export const modelBusy = (): Error =>
  new Error("this model is being trained by another fit(); wait for it or abort it first");

export const disposedDuringFit = (): Error => new Error("the model was disposed while fit() was training it");

export const workerFailed = (index: number, message: string): Error =>
  new Error(
    `fit(): worker ${index} failed: ${message}; the model keeps the parameters of its last step and ` +
      "every worker was stopped",
  );

export const workerExited = (index: number, code: number): Error =>
  new Error(
    `fit(): worker ${index} stopped (exit code ${code}) during training; the model keeps the ` +
      "parameters of its last step and every worker was stopped",
  );

/** fit({ workers }) where worker threads with shared memory are not available: a one-time warning. */
export const workersFallBack = (why: string): string =>
  `klcore fit(): the workers option trains on one thread here (the same results, threads: 1): ${why}`;

export const noIsolation = (): string =>
  "worker threads need SharedArrayBuffer, which browsers give only to cross-origin isolated pages " +
  "(serve the page with Cross-Origin-Opener-Policy: same-origin and " +
  "Cross-Origin-Embedder-Policy: require-corp)";

export const noWorkerSupport = (): string =>
  "this engine has SharedArrayBuffer but not Web Workers with Atomics.waitAsync";

export const workerDidNotStart = (url: string, message: string): string =>
  `the Web Worker ${url} did not start (${message}); serve klcore.worker.js from beside klcore.browser.js`;

export const trainingDiverged = (epoch: number, batch: number, loss: number, reason: string): RangeError =>
  new RangeError(
    `training diverged at epoch ${epoch}, batch ${batch}: ` +
      (reason === "non-finite-loss"
        ? `the loss is ${show(loss)}`
        : reason === "non-finite-update"
          ? "the update made the parameters non-finite"
          : reason === "exploding-kl"
            ? `the KL exploded (over 100 times the first batch's, and by 1000 nats; loss ${show(loss)})`
            : "a logit reached 2^24 in magnitude, past float32's resolution") +
      "; the parameters were restored to the last good state (lower the learning rate, or clip " +
      "gradients)",
  );

export const notModel = (value: unknown): TypeError =>
  new TypeError(
    `model must be a model made by categorical(), softmaxRegression(), mlp() or loadModel(); got ${show(value)}`,
  );

export const badModelJson = (detail: string): TypeError => new TypeError(`not a klcore model: ${detail}`);

// What the loaders of saved files (loadModel, loadClassifier, loadStandardizer) all check; `bad`
// is the loader's own error (badModelJson, ...), which names the kind of file.
type SavedFileError = (detail: string) => TypeError;

export const savedNotJson = (bad: SavedFileError, detail: string): TypeError =>
  bad(`the text is not JSON (${detail})`);

export const savedNotObject = (bad: SavedFileError): TypeError => bad("expected an object");

export const savedVersion = (bad: SavedFileError, version: unknown): TypeError =>
  bad(`version ${JSON.stringify(version)} is not supported (1 is)`);

// What loadModel() finds wrong in a saved model, field by field.
export const modelJsonFormat = (format: unknown): TypeError =>
  badModelJson(`format is ${JSON.stringify(format)}, not "klcore-model"`);

export const modelJsonKind = (kind: unknown): TypeError => badModelJson(`unknown kind ${String(kind)}`);

export const modelJsonParameterList = (): TypeError => badModelJson("parameters must be an array");

export const modelJsonInputs = (inputs: number, kind: string): TypeError =>
  badModelJson(`inputs must be ${inputs} for ${kind}`);

export const modelJsonHidden = (hidden: readonly number[], kind: string): TypeError =>
  badModelJson(`hidden must be [${hidden.join(", ")}] for this ${kind}`);

export const modelJsonActivation = (kind: string, hasHidden: boolean): TypeError =>
  badModelJson(
    hasHidden
      ? "activation must be 'relu' or 'tanh' for an MLP with hidden layers"
      : `activation must be null for a ${kind} without hidden layers`,
  );

export const modelJsonParameterCount = (given: number, expected: number): TypeError =>
  badModelJson(`${given} parameter arrays; this architecture has ${expected}`);

export const modelJsonParameterName = (index: number, name: string): TypeError =>
  badModelJson(`parameters[${index}] must be ${name}`);

export const modelJsonParameterShape = (name: string, shape: readonly number[]): TypeError =>
  badModelJson(`parameter ${name} must have shape [${shape.join(", ")}]`);

export const modelJsonNoData = (name: string): TypeError =>
  badModelJson(`parameter ${name} has no base64 data`);

export const modelJsonNotBase64 = (name: string): TypeError =>
  badModelJson(`parameter ${name}: data is not base64`);

export const modelJsonDataLength = (name: string, bytes: number, need: number): TypeError =>
  badModelJson(`parameter ${name} holds ${bytes} bytes; its shape needs ${need}`);

export const classifierGivenToLoadModel = (): TypeError =>
  new TypeError(
    "not a klcore model: format is \"klcore-classifier\", a classifier file written by 'klcore train'. " +
      "Load it with loadClassifier(file), whose predict() scales the features as in training and " +
      "names the labels; or pass file.model to loadModel() for the bare model, whose inputs must " +
      "then be scaled as file.scaling says (loadStandardizer(file.scaling).transform(x))",
  );

export const badClassifierJson = (detail: string): TypeError =>
  new TypeError(`not a klcore classifier file: ${detail}`);

// What loadClassifier() finds wrong in a classifier file, field by field.
export const classifierJsonFormat = (format: unknown): TypeError =>
  badClassifierJson(
    `format is ${JSON.stringify(format)}, not "klcore-classifier"` +
      (format === "klcore-model" ? " (a bare model: load it with loadModel())" : ""),
  );

export const classifierJsonLabel = (): TypeError =>
  badClassifierJson("label must be the label column's name");

export const classifierJsonLabels = (): TypeError => badClassifierJson("labels must be distinct strings");

export const classifierJsonFeatures = (): TypeError =>
  badClassifierJson("features must be distinct column names");

export const classifierJsonHeader = (): TypeError => badClassifierJson("header must be true or false");

export const classifierJsonScaling = (width: number): TypeError =>
  badClassifierJson(`scaling must be "none" or standard with ${width} means and scales`);

export const classifierJsonModel = (detail: string): TypeError => badClassifierJson(`model: ${detail}`);

export const classifierJsonShape = (
  inputs: number,
  classes: number,
  features: number,
  labels: number,
): TypeError =>
  badClassifierJson(
    `the model has ${inputs} inputs and ${classes} classes, but the file names ` +
      `${features} features and ${labels} labels`,
  );

export const badStandardizerJson = (detail: string): TypeError =>
  new TypeError(`not a klcore standardizer: ${detail}`);

// What loadStandardizer() finds wrong, field by field.
export const standardizerJsonMethod = (method: unknown): TypeError =>
  badStandardizerJson(`method is ${JSON.stringify(method)}, not "standard"`);

export const standardizerJsonMean = (): TypeError =>
  badStandardizerJson("mean must be a non-empty array of finite numbers");

export const standardizerJsonScale = (means: number): TypeError =>
  badStandardizerJson(`scale must be ${means} finite numbers > 0, one per mean`);

export const modelParameterNotFinite = (name: string, index: number, value: number): RangeError =>
  new RangeError(`the model's ${name}[${index}] is ${show(value)}; every parameter must be finite`);

export const categoricalTakesNoInput = (value: unknown): TypeError =>
  new TypeError(`a categorical model takes no input: pass null or nothing for x; got ${show(value)}`);

// ---- variational inference (src/vi.ts, src/vitargets.ts, src/psis.ts) -------------------------

export const notVITarget = (value: unknown): TypeError =>
  new TypeError(
    "target must be an object { dim, logDensity(z, grad) } or { dim, logDensityBatch(z, grad, out) }, " +
      `or a built-in target from targets; got ${show(value)}`,
  );

export const badDim = (value: unknown): RangeError =>
  new RangeError(`target.dim must be a positive integer; got ${show(value)}`);

export const notLogDensity = (value: unknown): TypeError =>
  new TypeError(
    `target.logDensity must be a function (z, grad) -> log p(x, z), or give logDensityBatch; got ${show(value)}`,
  );

export const badFamily = (value: unknown): TypeError =>
  new TypeError(`family must be 'meanfield' or 'fullrank'; got ${show(value)}`);

export const badGradientOption = (value: unknown): TypeError =>
  new TypeError(`gradient must be 'analytic' or 'finite-difference'; got ${show(value)}`);

export const finiteDifferenceBuiltin = (name: string): TypeError =>
  new TypeError(
    `gradient: 'finite-difference' is for targets written in JavaScript; targets.${name} has its ` +
      `analytic gradient in wasm: leave gradient out (or pass 'analytic')`,
  );

export const notVIOptimizer = (value: unknown): TypeError =>
  new TypeError(
    `optimizer must be an optimizer made by adam(), sgd(), rmsprop() or adagrad(); got ${show(value)}`,
  );

export const initMeanLength = (length: number, dim: number): RangeError =>
  new RangeError(`init.mean has ${length} values; the target's dim is ${dim}`);

export const initMeanNotFinite = (index: number, value: unknown): RangeError =>
  new RangeError(`init.mean[${index}] must be a finite number; got ${show(value)}`);

export const badInitScale = (value: unknown): RangeError =>
  new RangeError(`init.scale must be a finite number > 0; got ${show(value)}`);

export const logDensityNotNumber = (where: string, value: unknown): TypeError =>
  new TypeError(`logDensity must return a number; at ${where} it returned ${show(value)}`);

export const batchOutLength = (where: string, length: number, draws: number): RangeError =>
  new RangeError(
    `logDensityBatch returned ${length} values at ${where}; it must fill out (${draws} values, one per ` +
      "draw) or return that many",
  );

export const batchOutNotArray = (where: string, value: unknown): TypeError =>
  new TypeError(
    `logDensityBatch must fill out and return nothing, or return an array of numbers; at ${where} it ` +
      `returned ${show(value)}`,
  );

/** The text of a bad draw: where it happened (step or evaluation, draw, coordinate) and what it was. */
export const badDrawText = (
  where: string,
  kind: "nan" | "+inf" | "-inf" | "gradient" | "parameters",
  coordinate: number,
  value: number,
): string => {
  if (kind === "-inf") {
    return (
      `the log density is -Infinity at ${where}: the draw left the target's support (q puts mass where ` +
      "p(x, z) is 0). Map constrained parameters to the whole real line (for example z = ln(sigma), " +
      "adding the log-Jacobian z to the log density) or start q inside the support"
    );
  }
  if (kind === "gradient") {
    return `the gradient is not finite at ${where}, coordinate ${coordinate}: grad[${coordinate}] = ${show(value)}`;
  }
  if (kind === "parameters") {
    return `the update after ${where} made q's parameter ${coordinate} non-finite; lower the learning rate`;
  }
  return `the log density is ${show(value)} at ${where}; it must be finite (or -Infinity outside the support)`;
};

export const viDiverged = (text: string): RangeError =>
  new RangeError(`${text}; q was restored to its last good parameters`);

export const badEvaluation = (text: string): RangeError => new RangeError(text);

export const notPositiveDefinite = (name: string, pivot: number): RangeError =>
  new RangeError(
    `${name} must be symmetric positive definite; its Cholesky factorisation fails at row ${pivot}`,
  );

export const notSymmetric = (name: string, i: number, j: number, a: number, b: number): RangeError =>
  new RangeError(`${name} must be symmetric; [${i}][${j}] = ${show(a)} but [${j}][${i}] = ${show(b)}`);

export const badBinaryLabel = (index: number, value: unknown): RangeError =>
  new RangeError(`y[${index}] must be 0 or 1; got ${show(value)}`);

export const badScaleValue = (name: string, index: number, value: unknown): RangeError =>
  new RangeError(`${name}[${index}] must be a finite number > 0; got ${show(value)}`);

export const badVIJson = (detail: string): TypeError =>
  new TypeError(`not a klcore variational posterior: ${detail}`);

// What loadVI() finds wrong in a saved q, field by field (its text and object checks are savedNotJson
// and savedNotObject with badVIJson).
export const viJsonFormat = (): TypeError => badVIJson("format must be 'klcore-vi', version 1");
export const viJsonFamily = (): TypeError => badVIJson("family must be 'meanfield' or 'fullrank'");
export const viJsonDim = (): TypeError => badVIJson("dim must be a positive integer");
export const viJsonParams = (count: number, family: string, dim: number): TypeError =>
  badVIJson(`params must be ${count} numbers for a ${family} q of dim ${dim}`);
export const viJsonParam = (index: number): TypeError =>
  badVIJson(`params[${index}] must be a finite number`);

export const pointLength = (length: number, dim: number, whose: string): RangeError =>
  new RangeError(`z has ${length} values; ${whose} dim is ${dim}`);

export const tooFewWeights = (length: number): RangeError =>
  new RangeError(`psis needs at least 5 finite log-weights; got ${length}`);

export const valueNotFinite = (name: string, index: number, value: unknown): RangeError =>
  new RangeError(`${name}[${index}] must be a finite number; got ${show(value)}`);

export const wrongLength = (name: string, length: number, need: number, why: string): RangeError =>
  new RangeError(`${name} has ${length} values; ${why} needs ${need}`);
