// The library's API doing what `npm start` does through the command line (examples/start.mjs):
// softmax regression and an MLP trained on the embedded UCI handwritten digits (data/digits.csv,
// 1797 images of 8x8 pixels) by minimising KL(p || q_theta), with a fixed train/test split, then
// their held-out accuracy and the time taken. Run it with `node examples/train-digits.mjs` after
// `npm run build`.
import { readFileSync } from "node:fs";
import { parse } from "csv-parse/sync";
import { backend, fit, init, mlp, softmaxRegression } from "../dist/index.js";

const SEED = 20261121;

// ---- the data: 64 pixel columns (0..16) and a label column --------------------------------------
const records = parse(readFileSync(new URL("../data/digits.csv", import.meta.url)), {
  columns: true,
  cast: true,
});
const inputs = 64;
const classes = 10;
const rows = records.length;
const x = new Float32Array(rows * inputs);
const y = new Int32Array(rows);
records.forEach((r, i) => {
  for (let c = 0; c < inputs; c++) x[i * inputs + c] = r[`pixel${c}`] / 16;
  y[i] = r.label;
});

// A fixed split: every fifth image is held out for testing (26 to 48 images of each digit).
const take = (keep) => {
  const idx = Array.from({ length: rows }, (_, i) => i).filter(keep);
  return {
    x: Float32Array.from(idx.flatMap((r) => Array.from(x.subarray(r * inputs, (r + 1) * inputs)))),
    y: Int32Array.from(idx, (r) => y[r]),
  };
};
const train = take((i) => i % 5 !== 0);
const test = take((i) => i % 5 === 0);

// ---- progress: a bar redrawn in place on a terminal, plain lines otherwise ----------------------
const tty = process.stderr.isTTY === true;
function bar(done, total, width = 24) {
  const filled = Math.round((done / total) * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
}
const pct = (v) => `${(100 * v).toFixed(1)}%`.padStart(6);

async function run(name, model, options) {
  console.log(
    `\n${name}: ${model.parameterCount} parameters, ${options.epochs} epochs, batch ${options.batchSize}`,
  );
  const started = performance.now();
  const result = await fit(model, train, {
    loss: "kl",
    seed: SEED,
    validation: test,
    ...options,
    onBatch: tty
      ? ({ epoch, batch, batches, loss }) => {
          process.stderr.write(
            `\r  epoch ${String(epoch).padStart(3)} ${bar(batch, batches)} loss ${loss.toFixed(4)}`,
          );
        }
      : undefined,
    onEpoch: (s) => {
      if (tty) process.stderr.write("\r\x1b[K");
      console.log(
        `  epoch ${String(s.epoch).padStart(3)}  loss ${s.loss.toFixed(4)}  KL ${s.kl.toFixed(4)}  ` +
          `acc ${pct(s.accuracy)}  |  test KL ${s.valKl.toFixed(4)}  acc ${pct(s.valAccuracy)}  ` +
          `${s.time.toFixed(1)} ms`,
      );
    },
  });
  const seconds = (performance.now() - started) / 1000;
  const held = model.evaluate(test.x, test.y);
  console.log(
    `  held-out accuracy ${pct(held.accuracy).trim()} (${Math.round(held.accuracy * test.y.length)}/${test.y.length}), ` +
      `KL ${held.kl.toFixed(4)} nats, ${seconds.toFixed(2)} s, stopped: ${result.stopReason}`,
  );
  return held.accuracy;
}

const info = await init();
console.log(
  `klcore ${info.build} build; UCI digits: ${rows} images, ${train.y.length} train / ${test.y.length} test ` +
    `(every fifth held out), minimising KL(p || q)`,
);
const linear = await run("softmax regression 64 -> 10", softmaxRegression({ inputs, classes, seed: SEED }), {
  optimizer: "adam",
  learningRate: 1e-2,
  epochs: 30,
  batchSize: 32,
});
const deep = await run(
  "MLP 64 -> 64 (relu) -> 10",
  mlp({ inputs, hidden: [64], classes, activation: "relu", seed: SEED }),
  { optimizer: "adam", learningRate: 3e-3, epochs: 40, batchSize: 32 },
);
console.log(
  `\nheld-out accuracy: softmax regression ${pct(linear).trim()}, MLP ${pct(deep).trim()} ` +
    `(backend: ${backend().build})`,
);
