// TensorFlow.js 4.x as a peer contender: the same operations written as a TF.js user would write them,
// on the pure-JavaScript 'cpu' backend and on the 'wasm' backend (its SIMD build, single-threaded).
//
// Interface (every factory is untimed; the function it returns is what the harness times):
//   const tf = await loadTf("cpu" | "wasm");   one shared tf module, the named backend active
//   await useBackend(tf, name);                 untimed: switch, and bring that backend's tensors home
//   const fn = tfKl(tf, p, q);                  fn() does the whole call and returns a number
//   fn.backend, fn.tensors(), fn.dispose()      the backend its tensors live on; the tensors; free them
//   const epoch = tfTrainEpoch(tf, {...});      await epoch() trains one epoch, returns the loss sum
//   tfParameters(epoch)                         the trained weights, copied out (Float32Arrays)
//
// A contender belongs to the backend active when its factory ran: its input tensors are created there
// once, as a TF.js user keeps data on the backend, and it throws if called while another backend is
// active (TF.js would otherwise copy every input over, lazily, inside the timed call). useBackend()
// also moves back any tensor of that backend's contenders that another backend has touched.
//
// TF.js has no float64 (tf.tensor1d even rejects a Float64Array): Float64Array inputs are rounded to
// float32 once, in the factory.
//
// Creating the input tensors inside every call instead, measured here (Node 20, n = 1e6, p and q):
// 'cpu' about 0.05 ms (that backend keeps a reference to a Float32Array, no copy), 'wasm' about 0.4 ms
// (a copy into wasm memory), against 75-100 ms and 16-19 ms for the kl call; from Float64Array about
// 6.5 ms more on either backend for the conversion to float32.

/**
 * The three binaries the wasm backend ships, and the one it picks: threaded-SIMD when SIMD and threads
 * are both available, SIMD when only SIMD is, plain otherwise. In Node, tfjs-backend-wasm 4.22 reports
 * no thread support whatever the runtime can do (tensorflow/tfjs#3830), so with SIMD it loads
 * tfjs-backend-wasm-simd.wasm; loadTf() also sets the flag itself so the choice cannot drift. (Forcing
 * the flag on does not work in Node 20: the threaded build starts its workers from a blob: URL, which
 * worker_threads rejects with ERR_WORKER_PATH, and the backend fails to initialise.) In a page that
 * is cross-origin isolated the backend would pick the threaded build; the flag keeps it on the
 * single-threaded SIMD one there too, as klcore is single-threaded.
 */
export const WASM_BINARIES = {
  plain: "tfjs-backend-wasm.wasm",
  simd: "tfjs-backend-wasm-simd.wasm",
  threadedSimd: "tfjs-backend-wasm-threaded-simd.wasm",
};

let loading = null;
let wasmDir = null;

/**
 * The directory of the backend's .wasm binaries in Node: a plain path (Emscripten reads it with fs).
 * Loaded lazily, so that a page bundle of this module carries no Node import that would run.
 */
async function nodeWasmDir() {
  const { createRequire } = await import("node:module");
  const { dirname, sep } = await import("node:path");
  return dirname(createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm")) + sep;
}

async function setup(wasmPaths) {
  const tf = await import("@tensorflow/tfjs");
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  // PROD only silences TF.js's console notes (the cpu backend's advice to install tfjs-node, printed
  // at its first tensor); it changes no computation, and DEBUG stays off.
  tf.enableProdMode();
  // Must precede the first tf.setBackend("wasm").
  wasmDir = wasmPaths ?? (await nodeWasmDir());
  wasm.setWasmPaths(wasmDir);
  // Single-threaded SIMD, in Node (where the threaded build does not run with this version anyway)
  // and in pages.
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  return tf;
}

/**
 * The tf namespace with `backend` ('cpu' or 'wasm') active and ready. Loads TF.js once. wasmPaths:
 * where the wasm backend fetches its binaries (a page passes the URL of a directory that serves them;
 * the default, for Node, is the package's own directory); only the first call's counts.
 */
export async function loadTf(backend, { wasmPaths } = {}) {
  loading ??= setup(wasmPaths);
  const tf = await loading;
  await useBackend(tf, backend);
  return tf;
}

/**
 * Which wasm binary the backend loaded (or will load), from the flags it decides with. Throws when
 * the runtime has no wasm SIMD: the contender is meant to be the SIMD build.
 */
export async function wasmBinary(tf) {
  const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  const threads = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
  if (!simd) throw new Error("this runtime has no wasm SIMD: TF.js would load its non-SIMD build");
  const file = threads ? WASM_BINARIES.threadedSimd : WASM_BINARIES.simd;
  return { file, path: (wasmDir ?? "") + file, simd, threads };
}

// Per backend, the functions listing the tensors contenders keep there.
const resident = new Map();

function keepOn(backend, tensorsOf) {
  if (!resident.has(backend)) resident.set(backend, new Set());
  resident.get(backend).add(tensorsOf);
  return () => resident.get(backend).delete(tensorsOf);
}

/**
 * Makes `name` the active backend (awaiting its initialisation the first time), and moves back to it
 * any tensor a contender of that backend keeps that another backend has touched since. Untimed: call it
 * before each sample of a TF.js contender. Switching costs well under a millisecond.
 */
export async function useBackend(tf, name) {
  if (tf.getBackend() !== name) {
    if (name === "wasm") await wasmBinary(tf);
    if (!(await tf.setBackend(name))) throw new Error(`TF.js backend '${name}' failed to initialise`);
  }
  await tf.ready();
  const engine = tf.engine();
  for (const tensorsOf of resident.get(name) ?? []) {
    for (const t of tensorsOf()) {
      if (t.isDisposed) continue;
      const info = engine.state.tensorInfo.get(t.dataId);
      if (info && info.backend !== engine.backend) engine.moveData(engine.backend, t.dataId);
    }
  }
}

// Always a copy: the cpu backend would otherwise hold the caller's own array as the tensor's data.
const float32 = (x) => Float32Array.from(x);

/**
 * A contender on the active backend: `run` guarded against another backend, with dispose() (by
 * default disposing the tensors `tensorsOf` lists).
 */
function contender(tf, tensorsOf, run, release = () => tf.dispose(tensorsOf())) {
  const backend = tf.getBackend();
  const forget = keepOn(backend, tensorsOf);
  const fn = () => {
    if (tf.getBackend() !== backend) {
      throw new Error(`a TF.js '${backend}' contender called on '${tf.getBackend()}': call useBackend first`);
    }
    return run();
  };
  fn.backend = backend;
  fn.tensors = tensorsOf;
  fn.dispose = () => {
    forget();
    release();
  };
  return fn;
}

// Terms where the mask is false become 0 (the 0 * ln 0 = NaN of a p = 0 term included).
const masked = (tf, mask, terms) => tf.where(mask, terms, tf.zerosLike(terms));

/** KL(p || q) = sum p ln(p / q), with tf.where so that p = 0 terms give 0: natural log, unclipped. */
export function tfKl(tf, p, q) {
  const pt = tf.tensor1d(float32(p));
  const qt = tf.tensor1d(float32(q));
  return contender(
    tf,
    () => [pt, qt],
    () =>
      tf.tidy(() => {
        const terms = tf.mul(pt, tf.log(tf.div(pt, qt)));
        return tf.sum(masked(tf, tf.greater(pt, 0), terms)).dataSync()[0];
      }),
  );
}

/**
 * TF.js's own KL: the Keras loss 'kullbackLeiblerDivergence', the only KL in TF.js 4.x (not in
 * tf.losses nor tf.metrics; a user reaches it through model.compile({ loss: 'kullbackLeiblerDivergence' }),
 * which is how it is obtained here). It computes sum(p * ln(clip(p, eps, 1) / clip(q, eps, 1))) over
 * the last axis, eps = the backend's epsilon, 1e-7 in float32: q = 0 gives a finite value instead of
 * +inf ([.5, .5] || [1, 0] = 7.3659), and p or q below 1e-7 (or above 1) are changed inside the log
 * (the factor p is not clipped), so long distributions, whose entries are small, lose accuracy.
 */
export function tfKlBuiltin(tf, p, q) {
  const kld = layersLoss(tf, "kullbackLeiblerDivergence");
  const pt = tf.tensor1d(float32(p));
  const qt = tf.tensor1d(float32(q));
  return contender(
    tf,
    () => [pt, qt],
    () => tf.tidy(() => kld(pt, qt).dataSync()[0]),
  );
}

/** The loss function model.compile({ loss: name }) resolves to (tfjs-layers keeps its table private). */
export function layersLoss(tf, name) {
  const input = tf.input({ shape: [1] });
  const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 1 }).apply(input) });
  const optimizer = tf.train.sgd(0.1);
  model.compile({ optimizer, loss: name });
  const fn = model.lossFunctions[0];
  model.dispose();
  optimizer.dispose();
  return fn;
}

/** Entropy H(p) = -sum p ln p, p = 0 terms masked to 0. */
export function tfEntropy(tf, p) {
  const pt = tf.tensor1d(float32(p));
  return contender(
    tf,
    () => [pt],
    () =>
      tf.tidy(() => {
        const terms = tf.mul(pt, tf.log(pt));
        return tf.neg(tf.sum(masked(tf, tf.greater(pt, 0), terms))).dataSync()[0];
      }),
  );
}

/** Jensen-Shannon divergence (not the distance): KL(p || m)/2 + KL(q || m)/2, m = (p + q)/2, natural log. */
export function tfJsDivergence(tf, p, q) {
  const pt = tf.tensor1d(float32(p));
  const qt = tf.tensor1d(float32(q));
  return contender(
    tf,
    () => [pt, qt],
    () =>
      tf.tidy(() => {
        const m = tf.mul(tf.add(pt, qt), 0.5);
        const kl = (a) => tf.sum(masked(tf, tf.greater(a, 0), tf.mul(a, tf.log(tf.div(a, m)))));
        return tf.mul(tf.add(kl(pt), kl(qt)), 0.5).dataSync()[0];
      }),
  );
}

/**
 * Softmax cross-entropy on logits (rows x classes, row-major) with its gradient: tf.valueAndGrad of
 * tf.losses.softmaxCrossEntropy (mean over the rows, its default reduction without weights). `labels`
 * are class indices (length rows), or targets of length rows x classes; either way the one-hot (or
 * target) tensor is made once, here. fn() returns the loss, after reading the loss and the gradient
 * back with dataSync; fn.gradient() is the last gradient read (rows x classes).
 */
export function tfXentWithGrad(tf, logits, labels, rows, classes) {
  const z = tf.tensor2d(float32(logits), [rows, classes]);
  const targets =
    labels.length === rows
      ? tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(Int32Array.from(labels), "int32"), classes), "float32"))
      : tf.tensor2d(float32(labels), [rows, classes]);
  const lossAndGrad = tf.valueAndGrad((x) => tf.losses.softmaxCrossEntropy(targets, x));
  let gradient = null;
  const fn = contender(
    tf,
    () => [z, targets],
    () =>
      tf.tidy(() => {
        const { value, grad } = lossAndGrad(z);
        gradient = grad.dataSync();
        return value.dataSync()[0];
      }),
  );
  fn.gradient = () => gradient;
  return fn;
}

/**
 * One epoch of minibatch training, softmax regression (hidden []) or an MLP with ReLU, softmax
 * cross-entropy (mean over the batch) and Adam with PyTorch's defaults (TF.js's default epsilon is the
 * backend's 1e-7, so 1e-8 is passed), from `weights` (W0, b0, W1, b1, ...; W inputs x outputs
 * row-major, as klcore's model.parameters() gives them; copied). `x` (samples x inputs, float32) and
 * the one-hot labels live on the backend as two tensors made once; each batch is gathered from them by
 * the indices order[start .. start + batchSize). Each layer is tf.fused.matMul with bias (and ReLU),
 * what tf.layers.dense runs (as fast as matMul, add and relu apart, measured on both backends). The returned async function trains one epoch over `order` and returns the
 * sum of the batch losses, read with dataSync once per batch as a training loop that tracks its loss
 * does (on the cpu and wasm backends every op has already run when it returns, so the read costs a
 * scalar copy, not a wait). Every call continues from the weights and Adam state the last one left.
 */
export function tfTrainEpoch(tf, { inputs, hidden, classes, weights, x, y, batchSize, learningRate, order }) {
  const sizes = [inputs, ...hidden, classes];
  const layers = sizes.length - 1;
  if (weights.length !== 2 * layers)
    throw new Error(`expected ${2 * layers} weight arrays, got ${weights.length}`);
  const samples = y.length;
  if (x.length !== samples * inputs) throw new Error(`x has ${x.length} values, not ${samples} x ${inputs}`);
  const variables = weights.map((w, i) => {
    const l = i >> 1;
    const shape = i % 2 === 0 ? [sizes[l], sizes[l + 1]] : [sizes[l + 1]];
    if (w.length !== shape.reduce((a, b) => a * b))
      throw new Error(`weights[${i}] is not ${shape.join(" x ")}`);
    // tidy frees the initial tensor (the variable shares its data); variables outlive any tidy.
    return tf.tidy(() => tf.variable(tf.tensor(float32(w), shape)));
  });
  const xt = tf.tensor2d(float32(x), [samples, inputs]);
  const yt = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(Int32Array.from(y), "int32"), classes), "float32"));
  const optimizer = tf.train.adam(learningRate, 0.9, 0.999, 1e-8);
  const indices = Int32Array.from(order);

  const forward = (a) => {
    for (let l = 0; l < layers; l++) {
      a = tf.fused.matMul({
        a,
        b: variables[2 * l],
        bias: variables[2 * l + 1],
        activation: l + 1 < layers ? "relu" : "linear",
      });
    }
    return a;
  };

  // Adam's moments appear at its first step: listed as they exist, so useBackend moves them too.
  const optimizerState = () => [
    optimizer.accBeta1,
    optimizer.accBeta2,
    ...optimizer.accumulatedFirstMoment.map((m) => m.variable),
    ...optimizer.accumulatedSecondMoment.map((m) => m.variable),
  ];
  const epoch = contender(
    tf,
    () => [xt, yt, ...variables, ...optimizerState()],
    async () => {
      let total = 0;
      for (let start = 0; start < indices.length; start += batchSize) {
        const cost = tf.tidy(() => {
          const batch = tf.tensor1d(indices.subarray(start, start + batchSize), "int32");
          const xb = tf.gather(xt, batch);
          const yb = tf.gather(yt, batch);
          return optimizer.minimize(() => tf.losses.softmaxCrossEntropy(yb, forward(xb)), true, variables);
        });
        total += cost.dataSync()[0];
        cost.dispose();
      }
      return total;
    },
    () => {
      tf.dispose([xt, yt, ...variables]);
      optimizer.dispose();
    },
  );
  epoch.parameters = () => variables.map((v) => Float32Array.from(v.dataSync()));
  return epoch;
}

/** The current weights of a tfTrainEpoch contender, copied: W0, b0, W1, b1, ... (Float32Arrays). */
export const tfParameters = (epoch) => epoch.parameters();
