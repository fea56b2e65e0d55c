// The training suite: one epoch over 10,000 synthetic samples (784 inputs, 10 classes, batches of
// 128, the last of 16), Adam (lr 1e-3, PyTorch's defaults), softmax cross-entropy (mean over the
// batch), for softmax regression (784 -> 10) and an MLP 784-128-10 with ReLU.
//
// Contenders, all from the same initial weights and on the same batches: the plain JavaScript loop of
// bench/reference/train.mjs (the baseline), klcore's fit() (the public path: data checked up front,
// the divergence guard's copy and finiteness check per batch, a yield to the event loop between
// batches), the same loop by hand from klcore's pieces (klcoreEpoch, which shows fit's overhead), and
// TF.js on its cpu and wasm backends (tfTrainEpoch: tf.fused.matMul layers, tf.losses.
// softmaxCrossEntropy, a tf.train.adam optimiser, the loss read back once per batch), and PyTorch CPU
// when a PyTorch child was started (options.torch: torch.addmm layers, F.cross_entropy,
// torch.optim.Adam, float32, the same weights and batches).
//
// Before timing, one epoch of each must agree with the JavaScript loop: loss sum and parameters to
// float32 rounding, fit bit for bit with the hand loop. That epoch's differences are the accuracy
// figures. An epoch takes up to seconds (TF.js cpu on the MLP about 10 s), so each contender runs
// one warm-up epoch, then `samples` round-robin epochs.

import { adam, createInstanceSync, fit } from "../../dist/index.js";
import { loadTf, tfParameters, tfTrainEpoch, useBackend } from "../contenders/tfjs.mjs";
import { runWorkload } from "../harness.mjs";
import { largestDifference, relativeError } from "../reference/kernels.mjs";
import { JsAdam, JsMlp, epochOrder, jsTrainer, teacherData } from "../reference/train.mjs";
import {
  JS_NAME,
  TF_CPU,
  TF_WASM,
  disposeAll,
  extra,
  find,
  rowsOf,
  torchVerdict,
  verdict,
} from "./common.mjs";

export { largestDifference };

export const WORKLOAD = { samples: 10_000, inputs: 784, classes: 10, batchSize: 128, learningRate: 1e-3 };
export const MODELS = [
  { name: "softmax regression 784-10", hidden: [] },
  { name: "MLP 784-128-10 ReLU", hidden: [128] },
];
export const DATA_SEED = 0x7a1d;
export const MODEL_SEED = 42;
export const SHUFFLE_SEED = 7;
export const FIT = "klcore SIMD fit()";
export const HAND_LOOP = "klcore SIMD, loop by hand";
export const TARGETS = { vsTfWasm: 5, vsJs: 5 };

/**
 * How far one epoch may leave a contender from the JavaScript loop: the loss sum (relative) and the
 * largest parameter difference (relative to each array's scale). klcore and the loop differ only in
 * rounding; TF.js in its float32 matmul order and its Adam's arithmetic.
 */
export const TRAIN_TOLERANCE = {
  js: { loss: 0, parameters: 0 },
  klcore: { loss: 1e-4, parameters: 1e-3 },
  tfjs: { loss: 1e-4, parameters: 1e-3 },
  torch: { loss: 1e-4, parameters: 1e-3 },
};

/**
 * One epoch of klcore training. It mirrors the inner loop of fit() (src/train.ts), built from the
 * pieces fit uses, so that one call of await fit(model, { x, y }, { epochs: 1, batchSize, optimizer,
 * loss: 'cross-entropy', seed }) can take its place. The order is fit's first epoch: 0 .. n-1
 * shuffled by Fisher-Yates from mulberry32(seed) (epochOrder). Per batch the rows are copied into a
 * float32 WasmArray, then forward, the fused cross-entropy writing its gradient in place in wasm
 * memory, backward, and one optimizer step. Returns the sum of the batch losses.
 */
export function klcoreEpoch(inst, model, { x, y }, { batchSize, optimizer, seed }) {
  const n = model.inputs,
    c = model.classes;
  const samples = y.length;
  const xb = inst.alloc("float32", batchSize * n);
  const grad = inst.alloc("float32", batchSize * c);
  const yb = new Int32Array(batchSize);
  const params = model.parameters(),
    grads = model.gradients();
  const order = epochOrder(samples, seed);
  let total = 0;
  try {
    for (let start = 0; start < samples; start += batchSize) {
      const rows = Math.min(batchSize, samples - start);
      // Views are read again per batch: a call may have grown memory and detached the last ones.
      const xa = xb.array;
      for (let r = 0; r < rows; r++) {
        const i = order[start + r];
        xa.set(x.subarray(i * n, i * n + n), r * n);
        yb[r] = y[i];
      }
      const logits = model.forward(xb, rows);
      const labels = rows === batchSize ? yb : yb.subarray(0, rows);
      total += inst.crossEntropyWithLogits(labels, logits, {
        classes: c,
        grad: grad.array,
        reduction: "mean",
      }).loss;
      model.backward(grad, rows);
      optimizer.step(params, grads);
    }
  } finally {
    xb.free();
    grad.free();
  }
  return total;
}

/** A klcore model of the spec: softmax regression without hidden layers, else the ReLU MLP. */
export function klcoreModel(inst, { inputs, hidden, classes, seed }) {
  return hidden.length === 0
    ? inst.softmaxRegression({ inputs, classes, seed })
    : inst.mlp({ inputs, hidden, classes, activation: "relu", seed });
}

/** A JavaScript model holding a copy of the klcore model's current parameters. */
export function jsModelLike(kModel, hidden) {
  const js = new JsMlp({ inputs: kModel.inputs, hidden, classes: kModel.classes });
  const from = kModel.parameters();
  js.parameters().forEach((p, i) => p.set(from[i].array));
  return js;
}

/** largestDifference of the parameters and of the gradients (those of the last batch). */
export function modelDifference(kModel, jsModel) {
  const arrays = (list) => list.map((p) => p.array);
  return {
    parameters: largestDifference(arrays(kModel.parameters()), jsModel.parameters()),
    gradients: largestDifference(arrays(kModel.gradients()), jsModel.gradients()),
  };
}

/**
 * Runs the suite. Options: samples (epochs per contender after the warm-up one); optionally workload
 * (overrides of WORKLOAD: a smaller data set for smoke runs and tests), models, tf, torch
 * (PyTorch's contenders, suiteContenders()), log, extraContenders(context) (each { name, kind, fn, parameters() },
 * parameters' arrays or a promise of them; or a promise of the list). Returns { suite, workloads,
 * targets }.
 */
export async function train(options) {
  const { samples, log = () => {}, extraContenders, torch = null } = options;
  const workload = { ...WORKLOAD, ...options.workload };
  const models = options.models ?? MODELS;
  const tf = options.tf ?? (await loadTf("cpu"));
  const inst = createInstanceSync({ simd: true });
  const { inputs, classes, batchSize, learningRate } = workload;
  const data = teacherData({ samples: workload.samples, inputs, classes, seed: DATA_SEED });
  const order = epochOrder(workload.samples, SHUFFLE_SEED);
  const workloads = [];

  for (const spec of models) {
    const t0 = performance.now();
    const name = `train ${spec.name}`;
    const kModel = klcoreModel(inst, { inputs, hidden: spec.hidden, classes, seed: MODEL_SEED });
    const fModel = klcoreModel(inst, { inputs, hidden: spec.hidden, classes, seed: MODEL_SEED });
    const jsModel = jsModelLike(kModel, spec.hidden);
    const weights = kModel.parameters().map((p) => p.array.slice());
    const kOpt = adam({ learningRate });
    const fOpt = adam({ learningRate });
    const jsEpoch = jsTrainer(jsModel, new JsAdam({ learningRate }), data, { batchSize, seed: SHUFFLE_SEED });
    // fit's first epoch shuffles with mulberry32(seed) as epochOrder does: the same batches.
    const fitOptions = { epochs: 1, batchSize, optimizer: fOpt, loss: "cross-entropy", seed: SHUFFLE_SEED };
    const arrays = (model) => () => model.parameters().map((p) => p.array);
    const contenders = [
      { name: JS_NAME, kind: "js", fn: jsEpoch, parameters: () => jsModel.parameters() },
      // fit reports the mean loss per sample, not the sum of batch means: its loss is not compared
      // (its parameters are, and they must equal the hand loop's bit for bit).
      {
        name: FIT,
        kind: "klcore",
        fn: async () => (await fit(fModel, data, fitOptions)).history[0].loss,
        parameters: arrays(fModel),
        lossSum: false,
      },
      {
        name: HAND_LOOP,
        kind: "klcore",
        fn: () => klcoreEpoch(inst, kModel, data, { batchSize, optimizer: kOpt, seed: SHUFFLE_SEED }),
        parameters: arrays(kModel),
      },
    ];
    for (const [label, backend] of [
      [TF_CPU, "cpu"],
      [TF_WASM, "wasm"],
    ]) {
      await useBackend(tf, backend);
      const epoch = tfTrainEpoch(tf, {
        inputs,
        hidden: spec.hidden,
        classes,
        weights,
        ...data,
        batchSize,
        learningRate,
        order,
      });
      contenders.push({
        name: label,
        kind: "tfjs",
        fn: epoch,
        parameters: () => tfParameters(epoch),
        before: () => useBackend(tf, backend),
        dispose: epoch.dispose,
      });
    }
    if (torch) {
      const sizes = [inputs, ...spec.hidden, classes];
      contenders.push(await torch.train({ ...data, order, weights, sizes, batchSize, learningRate }));
    }
    contenders.push(
      ...(await extra(extraContenders, { suite: "train", spec, data, weights, jsModel, workload })),
    );

    // The same epoch before timing: loss sums and parameters against the JavaScript loop's.
    const losses = [];
    for (const c of contenders) {
      if (c.before) await c.before();
      losses.push(await c.fn());
    }
    const jsParams = jsModel.parameters();
    const check = {};
    for (const [i, c] of contenders.entries()) {
      const loss = c.lossSum === false ? null : relativeError(losses[i], losses[0]);
      const parameters = largestDifference(await c.parameters(), jsParams);
      const tol = TRAIN_TOLERANCE[c.kind];
      if (!tol) throw new Error(`${name}: ${c.name} has no tolerance for kind ${c.kind}`);
      if (!((loss === null || loss <= tol.loss) && parameters <= tol.parameters)) {
        throw new Error(
          `${name}: ${c.name} trained differently from the JS loop (loss sum ${losses[i]} vs ${losses[0]}, ` +
            `relative ${loss}; largest parameter difference ${parameters}): refusing to time it`,
        );
      }
      check[c.name] = { lossSum: losses[i], lossRelativeDifference: loss, parameterDifference: parameters };
    }
    const fitSame = kModel.parameters().every((p, i) => {
      const a = p.array,
        b = fModel.parameters()[i].array;
      return a.every((v, j) => Object.is(v, b[j]));
    });
    const { gradients } = modelDifference(kModel, jsModel);
    if (!fitSame || !(gradients <= 1e-3)) {
      throw new Error(
        `${name}: fit identical to the hand loop: ${fitSame}; gradient difference ${gradients}`,
      );
    }

    const result = await runWorkload({
      name,
      contenders,
      baseline: JS_NAME,
      elements: workload.samples,
      samples,
      targetMs: 0,
      warmupMs: 0,
      warmupCalls: 1,
    });
    const rows = rowsOf(result, contenders).map((r) => ({
      ...r,
      samplesPerSecond: workload.samples / (r.nsPerCall.median / 1e9),
      lossRelativeDifference: check[r.contender].lossRelativeDifference,
      parameterDifference: check[r.contender].parameterDifference,
    }));
    workloads.push({
      model: spec.name,
      hidden: spec.hidden,
      check,
      fitIdenticalToLoop: fitSame,
      lastBatchGradientDifference: gradients,
      contenders: rows,
      rounds: result.rounds,
    });
    await disposeAll(contenders);
    kModel.dispose();
    fModel.dispose();
    kOpt.dispose();
    fOpt.dispose();
    log(`  ${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return {
    suite: "train",
    settings: {
      ...workload,
      dataSeed: DATA_SEED,
      modelSeed: MODEL_SEED,
      shuffleSeed: SHUFFLE_SEED,
      epochsPerContender: samples,
    },
    workloads,
    targets: targets(workloads),
  };
}

function targets(workloads) {
  const out = [];
  for (const w of workloads) {
    const k = find(w.contenders, FIT);
    out.push(
      verdict({
        id: `train-${w.hidden.length ? "mlp" : "softmax"}-vs-tfwasm`,
        description: `one epoch, ${w.model}: klcore fit() at least 5x TF.js wasm`,
        workload: `train ${w.model}`,
        contender: FIT,
        versus: TF_WASM,
        value: k.speedupVsTfWasm.median,
        threshold: TARGETS.vsTfWasm,
      }),
      verdict({
        id: `train-${w.hidden.length ? "mlp" : "softmax"}-vs-js`,
        description: `one epoch, ${w.model}: klcore fit() at least 5x the JS loop`,
        workload: `train ${w.model}`,
        contender: FIT,
        versus: JS_NAME,
        value: k.speedupVsJs.median,
        threshold: TARGETS.vsJs,
      }),
      ...torchVerdict(w.contenders, {
        id: `train-${w.hidden.length ? "mlp" : "softmax"}-vs-torch`,
        workload: `one epoch, ${w.model}`,
        contender: FIT,
      }),
    );
  }
  return out;
}
