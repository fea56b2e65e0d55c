// A worker of fit({ workers }) (src/pool.ts): its own wasm instance holding a replica of the model
// and a Batch sized for one shard; the data, the epoch's order and the parameters are read from
// shared buffers, so nothing is copied per step but the parameters (in) and one gradient per block
// of shards (out). Each step: wait for the control's generation to change, take the parameters,
// compute the gradient of each block of this worker's shards along the fixed tree (src/shards.ts),
// write it to the block's node slot with the shards' statistics, and count itself done.

import { loadSync } from "./wasm/loader.js";
import { Scratch, WasmArray } from "./wasm/memory.js";
import { loadModel, type DenseModel } from "./models.js";
import { Batch } from "./objective.js";
import type { LossName } from "./objective.js";
import type { Targets } from "./data.js";
import {
  CMD_STOP,
  CTRL_CMD,
  CTRL_DONE,
  CTRL_FROM,
  CTRL_GEN,
  CTRL_ROWS,
  DEPTH,
  SHARDS,
  STAT_FIELDS,
  blocksOf,
  shardStart,
  shardsOf,
  slotsOf,
  sumTree,
  type WorkerSetup,
} from "./shards.js";

// Node's module by a name esbuild leaves alone (as src/pool.ts does): no @types/node in the build.
const WORKER_THREADS: string = "node:worker_threads";
const { parentPort, workerData } = (await import(WORKER_THREADS)) as {
  parentPort: { postMessage(message: unknown): void; close(): void };
  workerData: unknown;
};
const exit = (code: number): never =>
  (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(code);

const setup = workerData as WorkerSetup;
const core = loadSync({ simd: setup.simd });
const model = loadModel(core, new Scratch(core), setup.model) as DenseModel;
const params = model.parameters();
const grads = model.gradients();
const count = setup.lengths.reduce((a, b) => a + b, 0);
const offsets = setup.lengths.map((_, i) => setup.lengths.slice(0, i).reduce((a, b) => a + b, 0));

const features = setup.features ? { rows: setup.rows, values: new Float32Array(setup.features) } : null;
const targets: Targets =
  setup.targetKind === "indices"
    ? { kind: "indices", rows: setup.rows, labels: new Int32Array(setup.targets) }
    : { kind: "probabilities", rows: setup.rows, values: new Float32Array(setup.targets) };
const order = new Int32Array(setup.order);
const sharedParams = new Float32Array(setup.params);
const nodes = new Float32Array(setup.nodes);
const stats = new Float64Array(setup.stats);
const control = new Int32Array(setup.control);

// A shard holds at most ceil(batchSize / SHARDS) rows.
const batch = new Batch(
  core,
  model,
  setup.loss as LossName,
  targets,
  Math.max(1, Math.ceil(setup.batchSize / SHARDS)),
);
// A block's sum and the tree's temporaries, each the parameters end to end.
const sums = Array.from({ length: DEPTH + 2 }, () => new WasmArray(core, "float32", count));
const [first, end] = shardsOf(setup.index, setup.workers);
const blocks = blocksOf(first, end);
const { slot } = slotsOf(setup.workers);

// Shard `node`'s gradient into `into`, or added to it (`add`); its statistics to the shared block.
function shard(
  node: number,
  into: WasmArray<"float32">,
  add: boolean,
  spare: WasmArray<"float32">,
  from: number,
  rows: number,
): void {
  const k = core.k;
  const s = node - SHARDS;
  const a = shardStart(s, rows);
  const n = shardStart(s + 1, rows) - a;
  const at = s * STAT_FIELDS;
  if (n === 0) {
    // An empty shard (a batch of fewer rows than shards) is exact zeros, added as any node is.
    k.zero((add ? spare : into).ptr, count * 4);
    if (add) k.add_f32(into.ptr, spare.ptr, count);
    stats.set([0, 0, 0, 1], at);
    return;
  }
  batch.load(features, order, from + a, n);
  const r = batch.sums(setup.temperature, true, rows);
  grads.forEach((g, i) => {
    const to = into.ptr + offsets[i]! * 4;
    if (add) k.add_f32(to, g.ptr, g.length);
    else k.copy(to, g.ptr, g.length * 4);
  });
  stats.set([r.lossSum, r.klSum, r.correct, r.bounded ? 1 : 0], at);
}

function step(stepNumber: number): void {
  const fault = setup.fault;
  if (fault && fault.step === stepNumber) {
    if (fault.kind === "exit") exit(3);
    throw new Error(`test fault in worker ${setup.index} at step ${stepNumber}`);
  }
  params.forEach((p, i) => p.array.set(sharedParams.subarray(offsets[i]!, offsets[i]! + p.length)));
  const from = control[CTRL_FROM]!;
  const rows = control[CTRL_ROWS]!;
  const [top, ...temps] = sums;
  for (const node of blocks) {
    sumTree(
      node,
      top!,
      temps,
      (i) => i >= SHARDS,
      (i, into, add, spare) => shard(i, into, add, spare, from, rows),
      (into, right) => core.k.add_f32(into.ptr, right.ptr, count),
    );
    nodes.set(top!.array, slot[node]! * count);
  }
}

parentPort.postMessage("ready");
let generation = 0;
let steps = 0;
for (;;) {
  // A timeout keeps the wait from outliving a coordinator that vanished without a word.
  while (Atomics.load(control, CTRL_GEN) === generation) Atomics.wait(control, CTRL_GEN, generation, 1000);
  generation = Atomics.load(control, CTRL_GEN);
  if (control[CTRL_CMD] === CMD_STOP) break;
  step(++steps);
  Atomics.add(control, CTRL_DONE, 1);
  Atomics.notify(control, CTRL_DONE);
}
parentPort.close();
