// What does fit() cost over the same training loop written by hand, when it trains several epochs in
// one call? `npm run bench` times one epoch per fit() call, so each of its samples also pays fit's
// once-per-call work (checking every value of x, setting up the batches); this times 10 epochs per
// call, round-robin with the benchmark's harness, on the benchmark's training workload (10,000 x 784,
// batch 128, Adam): the loop by hand (bench/suites/train.mjs's klcoreEpoch) 10 times, fit() with
// epochs: 10, and fit() with epochs: 1 called 10 times. Same amount of work in each; not the same
// batches (fit continues one shuffling stream across its epochs), so only the times are compared.
// Prints ms per epoch and each fit variant's time over the hand loop's (median of same-round ratios).
// Usage: node scripts/measure/measure-fit-overhead.mjs [--samples N]
import { parseArgs } from "node:util";
import { adam, createInstanceSync, fit } from "../../dist/index.js";
import { pairedRatio, runWorkload } from "../../bench/harness.mjs";
import {
  MODELS,
  MODEL_SEED,
  SHUFFLE_SEED,
  WORKLOAD,
  klcoreEpoch,
  klcoreModel,
} from "../../bench/suites/train.mjs";
import { teacherData } from "../../bench/reference/train.mjs";

const EPOCHS = 10;
const HAND = `loop by hand, ${EPOCHS} epochs`;
const FIT_ONCE = `fit(), epochs: ${EPOCHS}`;
const FIT_EACH = `fit(), epochs: 1, ${EPOCHS} calls`;

const { values } = parseArgs({ options: { samples: { type: "string", default: "7" } } });
const samples = Number(values.samples);
if (!Number.isInteger(samples) || samples < 1)
  throw new Error(`--samples: a positive integer, not ${values.samples}`);

const { samples: rows, inputs, classes, batchSize, learningRate } = WORKLOAD;
const data = teacherData({ samples: rows, inputs, classes, seed: 0x7a1d });
const inst = createInstanceSync();

console.log(`| model | contender | ms per epoch (median) | over the loop by hand |`);
console.log(`|---|---|--:|--:|`);
for (const spec of MODELS) {
  const model = () => klcoreModel(inst, { inputs, hidden: spec.hidden, classes, seed: MODEL_SEED });
  const [hand, once, each] = [model(), model(), model()];
  const [oHand, oOnce, oEach] = [adam({ learningRate }), adam({ learningRate }), adam({ learningRate })];
  const options = (epochs, optimizer) => ({
    epochs,
    batchSize,
    optimizer,
    loss: "cross-entropy",
    seed: SHUFFLE_SEED,
  });
  const result = await runWorkload({
    name: spec.name,
    baseline: HAND,
    contenders: [
      {
        name: HAND,
        fn: () => {
          let loss = 0;
          for (let e = 0; e < EPOCHS; e++) {
            loss = klcoreEpoch(inst, hand, data, { batchSize, optimizer: oHand, seed: SHUFFLE_SEED + e });
          }
          return loss;
        },
      },
      { name: FIT_ONCE, fn: async () => (await fit(once, data, options(EPOCHS, oOnce))).history.at(-1).loss },
      {
        name: FIT_EACH,
        fn: async () => {
          let loss = 0;
          for (let e = 0; e < EPOCHS; e++) loss = (await fit(each, data, options(1, oEach))).history[0].loss;
          return loss;
        },
      },
    ],
    samples,
    targetMs: 5,
    warmupMs: 0,
    warmupCalls: 1,
  });
  for (const c of result.contenders) {
    const overhead =
      c.name === HAND ? "" : `+${((pairedRatio(result, c.name, HAND).median - 1) * 100).toFixed(0)}%`;
    console.log(
      `| ${spec.name} | ${c.name} | ${(c.nsPerCall.median / 1e6 / EPOCHS).toFixed(1)} | ${overhead} |`,
    );
  }
  for (const m of [hand, once, each]) m.dispose();
  for (const o of [oHand, oOnce, oEach]) o.dispose();
}
