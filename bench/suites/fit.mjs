// The fit suite: what fit() costs over the same training loop written by hand, one epoch per call,
// on the training suite's workload (10,000 x 784, batch 128, Adam, cross-entropy) for both of its
// models. Two contenders side by side, round-robin in one process: the loop by hand (klcoreEpoch of
// bench/suites/train.mjs) and fit(model, data, { epochs: 1, ... }). Each fit() call pays its
// once-per-call work (checking the options and targets, setting up the batches) and its per-batch
// work (the first epoch's check of x, the divergence guard, the accuracy count, a yield to the event
// loop every 16 ms) on top of the same kernels.
// Both run the same batches from the same weights: their parameters must be equal bit for bit after
// the first epoch, and again after timing when both ran as many epochs (a short epoch of a small
// workload is called more often by the harness's calibration). The figure is the median of the
// same-round ratios fit / hand loop.

import { adam, createInstanceSync, fit } from "../../dist/index.js";
import { pairedRatio, runWorkload } from "../harness.mjs";
import { teacherData } from "../reference/train.mjs";
import { verdict } from "./common.mjs";
import {
  DATA_SEED,
  FIT,
  HAND_LOOP,
  MODELS,
  MODEL_SEED,
  SHUFFLE_SEED,
  WORKLOAD,
  klcoreEpoch,
  klcoreModel,
} from "./train.mjs";

/** fit()'s epoch may take at most this much more time than the loop by hand. */
export const FIT_OVERHEAD_TARGET = 0.05;

const sameBits = (a, b) =>
  a.parameters().every((p, i) => {
    const x = p.array,
      y = b.parameters()[i].array;
    return x.every((v, j) => Object.is(v, y[j]));
  });

/**
 * Runs the suite. Options: samples (epochs per contender after the warm-up one), optionally workload
 * (overrides of WORKLOAD), models, log. Returns { suite: "fit", settings, workloads, targets }.
 */
export async function fitOverhead(options) {
  const { samples, log = () => {} } = options;
  const workload = { ...WORKLOAD, ...options.workload };
  const models = options.models ?? MODELS;
  const inst = createInstanceSync({ simd: true });
  const { inputs, classes, batchSize, learningRate } = workload;
  const data = teacherData({ samples: workload.samples, inputs, classes, seed: DATA_SEED });
  const workloads = [];
  for (const spec of models) {
    const t0 = performance.now();
    const name = `fit ${spec.name}`;
    const hand = klcoreModel(inst, { inputs, hidden: spec.hidden, classes, seed: MODEL_SEED });
    const fitted = klcoreModel(inst, { inputs, hidden: spec.hidden, classes, seed: MODEL_SEED });
    const hOpt = adam({ learningRate });
    const fOpt = adam({ learningRate });
    const fitOptions = { epochs: 1, batchSize, optimizer: fOpt, loss: "cross-entropy", seed: SHUFFLE_SEED };
    const calls = [0, 0];
    const contenders = [
      {
        name: HAND_LOOP,
        fn: () => {
          calls[0]++;
          return klcoreEpoch(inst, hand, data, { batchSize, optimizer: hOpt, seed: SHUFFLE_SEED });
        },
      },
      {
        name: FIT,
        fn: async () => {
          calls[1]++;
          return (await fit(fitted, data, fitOptions)).history[0].loss;
        },
      },
    ];
    await contenders[0].fn();
    await contenders[1].fn();
    if (!sameBits(hand, fitted)) throw new Error(`${name}: fit() trained differently from the hand loop`);
    const result = await runWorkload({
      name,
      contenders,
      baseline: HAND_LOOP,
      elements: workload.samples,
      samples,
      targetMs: 0,
      warmupMs: 0,
      warmupCalls: 1,
    });
    const sameCalls = calls[0] === calls[1];
    if (sameCalls && !sameBits(hand, fitted)) {
      throw new Error(`${name}: fit() and the hand loop drifted apart while timed`);
    }
    const ratio = pairedRatio(result, FIT, HAND_LOOP);
    workloads.push({
      model: spec.name,
      hidden: spec.hidden,
      fitIdenticalToLoop: true,
      // null when the harness called one more often than the other (then only the first epoch's
      // parameters were compared).
      identicalAfterTiming: sameCalls ? true : null,
      handMs: result.contenders[0].nsPerCall.median / 1e6,
      fitMs: result.contenders[1].nsPerCall.median / 1e6,
      ratio,
      rounds: result.rounds,
    });
    hand.dispose();
    fitted.dispose();
    hOpt.dispose();
    fOpt.dispose();
    log(
      `  ${name}: fit / hand loop ${ratio.median.toFixed(3)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
  }
  return {
    suite: "fit",
    settings: {
      ...workload,
      dataSeed: DATA_SEED,
      modelSeed: MODEL_SEED,
      shuffleSeed: SHUFFLE_SEED,
      epochsPerContender: samples,
    },
    workloads,
    targets: workloads.map((w) =>
      verdict({
        id: `fit-${w.hidden.length ? "mlp" : "softmax"}-overhead`,
        description: `one epoch per call, ${w.model}: fit() within ${FIT_OVERHEAD_TARGET * 100}% of the loop by hand`,
        workload: `fit ${w.model}`,
        contender: FIT,
        versus: HAND_LOOP,
        value: w.ratio.median,
        threshold: 1 + FIT_OVERHEAD_TARGET,
        atMost: true,
      }),
    ),
  };
}
