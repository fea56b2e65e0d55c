// The workers suite: fit({ workers: n }) against fit() on one thread, on the training suite's data
// (10,000 x 784, 10 classes) and its MLP 784-128-10 ReLU, Adam (lr 1e-3), cross-entropy, at batch
// 128 and 512. Contenders: fit without the option (one thread, no pool), and fit with 1, 2
// workers and more up to the machine's cores (recorded in the report's machine section). Each round
// runs every contender once, round-robin, for EPOCHS epochs: an epoch's figure is its own time from
// the history (the pool's start, once per fit call, is measured apart as the call's time outside
// its epochs). The speed-up of n workers is the median over rounds of time(1 worker) / time(n
// workers) in the same round. Every worker contender trains the same epochs from the same weights,
// so after the rounds their parameters must be the same bits (the suite refuses otherwise).

import os from "node:os";
import { adam, createInstanceSync, fit } from "../../dist/index.js";
import { teacherData } from "../reference/train.mjs";
import { verdict } from "./common.mjs";
import { DATA_SEED, MODEL_SEED, SHUFFLE_SEED, WORKLOAD, klcoreModel } from "./train.mjs";

export const BATCH_SIZES = [128, 512];
export const HIDDEN = [128];
const EPOCHS = 2;
/** Speed-up of 2 workers over 1 worker, per batch size, on a machine with at least 2 cores. */
export const TARGETS = { 512: 1.7, 128: 1.5 };

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const sameBits = (a, b) =>
  a.parameters().every((p, i) => {
    const x = p.array,
      y = b.parameters()[i].array;
    return x.every((v, j) => Object.is(v, y[j]));
  });

/** Worker counts to run: 1, 2, 4, ... up to the cores, and the cores themselves. */
export function workerCounts(cores) {
  const out = [];
  for (let n = 1; n <= Math.min(cores, 8); n *= 2) out.push(n);
  if (cores <= 8 && !out.includes(cores)) out.push(cores);
  if (!out.includes(2)) out.push(2);
  return out.sort((a, b) => a - b);
}

/**
 * Runs the suite. Options: samples (rounds), optionally workload (overrides of WORKLOAD), hidden,
 * batchSizes (smaller runs for smoke runs and tests), log. Returns { suite: "workers", settings,
 * workloads, targets }.
 */
export async function workers(options) {
  const { samples, log = () => {}, hidden = HIDDEN, batchSizes = BATCH_SIZES } = options;
  const workload = { ...WORKLOAD, ...options.workload };
  const inst = createInstanceSync({ simd: true });
  const { inputs, classes, learningRate } = workload;
  const data = teacherData({ samples: workload.samples, inputs, classes, seed: DATA_SEED });
  const cores = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
  const counts = workerCounts(cores);
  const workloads = [];
  for (const batchSize of batchSizes) {
    const t0 = performance.now();
    const contenders = [null, ...counts].map((n) => ({
      name: n === null ? "fit(), one thread" : `fit({ workers: ${n} })`,
      workers: n,
      model: klcoreModel(inst, { inputs, hidden, classes, seed: MODEL_SEED }),
      optimizer: adam({ learningRate }),
      epochMs: [],
      roundMs: [],
      startMs: [],
      threads: null,
    }));
    for (let round = 0; round < samples; round++) {
      for (const c of contenders) {
        const fitOptions = {
          epochs: EPOCHS,
          batchSize,
          optimizer: c.optimizer,
          loss: "cross-entropy",
          seed: SHUFFLE_SEED + round,
          ...(c.workers === null ? {} : { workers: c.workers }),
        };
        const start = performance.now();
        const result = await fit(c.model, data, fitOptions);
        const wall = performance.now() - start;
        const times = result.history.map((h) => h.time);
        c.epochMs.push(...times);
        c.roundMs.push(times.reduce((a, b) => a + b, 0) / times.length);
        c.startMs.push(wall - times.reduce((a, b) => a + b, 0));
        c.threads = result.threads;
      }
    }
    const pooled = contenders.filter((c) => c.workers !== null);
    for (const c of pooled.slice(1)) {
      if (!sameBits(c.model, pooled[0].model)) {
        throw new Error(`workers, batch ${batchSize}: ${c.name} trained differently from ${pooled[0].name}`);
      }
    }
    const one = pooled.find((c) => c.workers === 1);
    const plain = contenders[0];
    const rows = contenders.map((c) => {
      const ms = median(c.epochMs);
      return {
        contender: c.name,
        workers: c.workers,
        threads: c.threads,
        epochMs: { median: ms, min: Math.min(...c.epochMs), max: Math.max(...c.epochMs) },
        samplesPerSecond: workload.samples / (ms / 1e3),
        poolStartMs: median(c.startMs),
        speedupVsOneWorker: median(c.roundMs.map((t, i) => one.roundMs[i] / t)),
        speedupVsOneThread: median(c.roundMs.map((t, i) => plain.roundMs[i] / t)),
        epochSamplesMs: c.epochMs,
      };
    });
    workloads.push({
      model: `MLP ${[inputs, ...hidden, classes].join("-")} ReLU`,
      batchSize,
      identicalAcrossWorkers: true,
      contenders: rows,
    });
    for (const c of contenders) {
      c.model.dispose();
      c.optimizer.dispose();
    }
    log(
      `  batch ${batchSize}: ` +
        rows.map((r) => `${r.contender} ${Math.round(r.samplesPerSecond)}/s`).join(", ") +
        ` (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
  }
  return {
    suite: "workers",
    settings: {
      ...workload,
      hidden,
      batchSizes,
      epochsPerCall: EPOCHS,
      rounds: samples,
      cores,
      workerCounts: counts,
      dataSeed: DATA_SEED,
      modelSeed: MODEL_SEED,
    },
    workloads,
    targets:
      cores >= 2
        ? workloads.map((w) =>
            verdict({
              id: `workers-mlp-b${w.batchSize}-2x`,
              description: `one epoch, ${w.model}, batch ${w.batchSize}: 2 workers at least ${TARGETS[w.batchSize] ?? TARGETS[128]}x 1 worker`,
              workload: `workers batch ${w.batchSize}`,
              contender: "fit({ workers: 2 })",
              versus: "fit({ workers: 1 })",
              value: w.contenders.find((r) => r.workers === 2).speedupVsOneWorker,
              threshold: TARGETS[w.batchSize] ?? TARGETS[128],
            }),
          )
        : [],
  };
}
