// PyTorch CPU beside klcore and the JavaScript loops on the benchmark's other workloads, before they
// join `npm run bench`: kl at n = 1e6 (float32, float64), cross-entropy with its gradient (256x10,
// 64x1000, float32 and float64) and one training epoch (softmax regression 784-10, MLP 784-128-10),
// with the suites' inputs, seeds and settings, round-robin with the benchmark's harness. PyTorch runs
// in its child process (bench/contenders/torch.mjs) on the threads asked for and times itself. Each
// value is checked first: kl and the loss against the float64 reference, the epoch's loss sum and
// parameters against the JavaScript loop. Prints the median time per call and each contender's
// speed-up over the JS loop (median of same-round ratios).
// Usage: node scripts/measure/measure-torch.mjs [--samples N] [--threads N] [--epochs N]
import { parseArgs } from "node:util";
import { adam, createInstanceSync } from "../../dist/index.js";
import { runWorkload } from "../../bench/harness.mjs";
import { startTorch, torchAvailable, torchKl, torchTrain, torchXent } from "../../bench/contenders/torch.mjs";
import {
  arrayError,
  distribution,
  js,
  largestDifference,
  logitsAndLabels,
  mulberry32,
  reference,
  relativeError,
} from "../../bench/reference/kernels.mjs";
import { JsAdam, epochOrder, jsTrainer, teacherData } from "../../bench/reference/train.mjs";
import { SEED as KL_SEED, ZERO_FRACTION } from "../../bench/suites/divergences.mjs";
import { SEED as XENT_SEED, SHAPES } from "../../bench/suites/xent.mjs";
import {
  DATA_SEED,
  MODELS,
  MODEL_SEED,
  SHUFFLE_SEED,
  WORKLOAD,
  jsModelLike,
  klcoreEpoch,
  klcoreModel,
} from "../../bench/suites/train.mjs";

const { values } = parseArgs({
  options: {
    samples: { type: "string", default: "11" },
    threads: { type: "string", default: "1" },
    epochs: { type: "string", default: "3" },
  },
});
const samples = Number(values.samples);
const epochs = Number(values.epochs);
const threads = Number(values.threads);
const available = torchAvailable();
if (!available.ok) {
  console.log(`PyTorch skipped: ${available.reason}`);
  process.exit(0);
}
const torch = await startTorch({ threads });
const name = `PyTorch CPU, ${torch.info.threads} thread${torch.info.threads === 1 ? "" : "s"}`;
console.log(`PyTorch ${torch.info.torch}, torch.get_num_threads() = ${torch.info.threads}`);
const inst = createInstanceSync({ simd: true });
const rows = [];
const us = (ns) => (ns / 1e3).toFixed(1);

async function time(workload, contenders, { long = false } = {}) {
  const result = await runWorkload({
    name: workload,
    contenders,
    baseline: "JS loop",
    samples: long ? epochs : samples,
    targetMs: long ? 0 : 5,
    warmupMs: long ? 0 : 150,
    warmupCalls: long ? 1 : 3,
  });
  for (const r of result.contenders)
    rows.push(`| ${workload} | ${r.name} | ${us(r.nsPerCall.median)} | ${r.speedup.median.toFixed(2)} |`);
  for (const c of contenders) if (c.dispose) await c.dispose();
}

try {
  // kl at n = 1e6: the divergences suite's inputs (its generator, seed and zero fraction).
  const rand = mulberry32(KL_SEED);
  for (const dtype of ["float32", "float64"]) {
    const Arr = dtype === "float32" ? Float32Array : Float64Array;
    const n = 1e6;
    const p = Arr.from(distribution(rand, n, ZERO_FRACTION));
    const q = Arr.from(distribution(rand, n, 0));
    const t = await torchKl(torch, p, q, name);
    const value = await t.fn();
    console.log(
      `kl ${dtype}: PyTorch relative error ${relativeError(value, reference.kl(p, q)).toExponential(2)}`,
    );
    await time(`kl ${dtype} n=1e6`, [
      { name: "JS loop", fn: () => js.kl[dtype](p, q) },
      { name: "klcore SIMD", fn: () => inst.kl(p, q) },
      t,
    ]);
  }

  // Cross-entropy with its gradient: the xent suite's shapes and inputs.
  const xrand = mulberry32(XENT_SEED);
  for (const dtype of ["float32", "float64"]) {
    for (const [r, c] of SHAPES) {
      const Arr = dtype === "float32" ? Float32Array : Float64Array;
      const { z, y } = logitsAndLabels(xrand, r, c, Arr);
      const jsGrad = new Arr(r * c);
      const kGrad = new Arr(r * c);
      const options = { classes: c, grad: kGrad };
      const t = await torchXent(torch, z, y, r, c, name);
      const loss = await t.fn();
      const ref = reference.xent(z, y, r, c);
      console.log(
        `crossEntropyWithLogits ${dtype} ${r}x${c}: PyTorch loss error ${relativeError(loss, ref.loss).toExponential(2)}, ` +
          `gradient error ${arrayError(await t.gradient(), ref.grad).toExponential(2)}`,
      );
      await time(`crossEntropyWithLogits ${dtype} ${r}x${c}`, [
        { name: "JS loop", fn: () => js.xent[dtype](z, y, r, c, jsGrad) },
        { name: "klcore SIMD", fn: () => inst.crossEntropyWithLogits(y, z, options).loss },
        t,
      ]);
    }
  }

  // One training epoch: the training suite's data, initial weights and batches.
  const { inputs, classes, batchSize, learningRate } = WORKLOAD;
  const data = teacherData({ samples: WORKLOAD.samples, inputs, classes, seed: DATA_SEED });
  const order = epochOrder(WORKLOAD.samples, SHUFFLE_SEED);
  for (const spec of MODELS) {
    const kModel = klcoreModel(inst, { inputs, hidden: spec.hidden, classes, seed: MODEL_SEED });
    const jsModel = jsModelLike(kModel, spec.hidden);
    const weights = kModel.parameters().map((p) => p.array.slice());
    const jsEpoch = jsTrainer(jsModel, new JsAdam({ learningRate }), data, { batchSize, seed: SHUFFLE_SEED });
    const kOpt = adam({ learningRate });
    const sizes = [inputs, ...spec.hidden, classes];
    const t = await torchTrain(torch, { ...data, order, weights, sizes, batchSize, learningRate }, name);
    // The first epoch of each, compared before timing.
    const jsLoss = jsEpoch();
    const tLoss = await t.fn();
    const diff = largestDifference(await t.parameters(), jsModel.parameters());
    console.log(
      `train ${spec.name}: PyTorch loss sum ${relativeError(tLoss, jsLoss).toExponential(2)} from the JS loop's, ` +
        `largest parameter difference ${diff.toExponential(2)}`,
    );
    await time(
      `train ${spec.name}`,
      [
        { name: "JS loop", fn: jsEpoch },
        {
          name: "klcore SIMD, loop by hand",
          fn: () => klcoreEpoch(inst, kModel, data, { batchSize, optimizer: kOpt, seed: SHUFFLE_SEED }),
        },
        t,
      ],
      { long: true },
    );
    kModel.dispose();
    kOpt.dispose();
  }
} finally {
  await torch.close();
}
console.log("");
console.log("| workload | contender | µs per call (median) | vs JS loop |");
console.log("|---|---|--:|--:|");
for (const r of rows) console.log(r);
