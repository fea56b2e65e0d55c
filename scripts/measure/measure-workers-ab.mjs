// Two builds of fit({ workers }) side by side in one process (docs/workers.md): for each build and
// round, the benchmark's MLP 784-128-10 (bench/suites/train.mjs's workload and data) trained for 2
// epochs with 1 worker, 2, 2 and 1 again, back to back; the round's speed-up is the 1-worker epochs'
// mean time over the 2-worker epochs'. Prints each build's median over the rounds, the rounds, and
// the median epoch times with 1 and 2 workers (a faster build can show a smaller speed-up).
// A build is a dist folder: build another commit with
//   git worktree add /tmp/other <commit> && (cd /tmp/other && npm ci && npm run build)
// Usage: node scripts/measure/measure-workers-ab.mjs <dist> <dist> [rounds] [batch sizes, e.g. 128,512]

import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { teacherData } from "../../bench/reference/train.mjs";
import { DATA_SEED, MODEL_SEED, WORKLOAD, klcoreModel } from "../../bench/suites/train.mjs";

const [a, b, roundsArg, batchesArg] = process.argv.slice(2);
if (!a || !b) throw new Error("usage: measure-workers-ab.mjs <dist> <dist> [rounds] [batch sizes]");
const rounds = Number(roundsArg ?? 7);
const batches = (batchesArg ?? "128,512").split(",").map(Number);
const builds = [];
for (const dir of [a, b]) {
  const lib = await import(pathToFileURL(resolve(dir, "index.js")).href);
  builds.push({ name: dir, lib, k: lib.createInstanceSync() });
}
const data = teacherData({ ...WORKLOAD, seed: DATA_SEED });
const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];

/** The mean epoch time (ms, from fit's history) of a 2-epoch fit. */
async function epoch({ lib, k }, batchSize, workers) {
  const model = klcoreModel(k, { ...WORKLOAD, hidden: [128], seed: MODEL_SEED });
  const optimizer = lib.adam({ learningRate: WORKLOAD.learningRate });
  const r = await lib.fit(model, data, { epochs: 2, batchSize, optimizer, loss: "cross-entropy", workers });
  model.dispose();
  return r.history.reduce((s, h) => s + h.time, 0) / r.history.length;
}

for (const batchSize of batches) {
  const ratios = builds.map(() => []);
  const ones = builds.map(() => []);
  const twos = builds.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (const [i, build] of builds.entries()) {
      const one = await epoch(build, batchSize, 1);
      const two = (await epoch(build, batchSize, 2)) + (await epoch(build, batchSize, 2));
      const both = one + (await epoch(build, batchSize, 1));
      ratios[i].push(both / two);
      ones[i].push(both / 2);
      twos[i].push(two / 2);
    }
  }
  for (const [i, build] of builds.entries()) {
    const rs = ratios[i].map((x) => x.toFixed(2)).join(" ");
    const ms = `epochs ${median(ones[i]).toFixed(0)} ms with 1 worker, ${median(twos[i]).toFixed(0)} ms with 2`;
    console.log(
      `batch ${batchSize}, ${build.name}: 2 workers vs 1 ${median(ratios[i]).toFixed(2)}x (rounds: ${rs}); ${ms}`,
    );
  }
}
