// The loop of a worker of fit({ workers }) (src/pool.ts), the same in a Node worker thread
// (src/worker.ts) and a browser's Web Worker (src/worker.browser.ts): its own wasm instance running a
// ShardRunner (a replica of the model, src/shardrunner.ts); the data, the epoch's order and the
// parameters are read from shared buffers, so nothing is copied per step but the parameters (in)
// and one gradient per block of shards (out). Each step: wait for the control's generation to
// change, take the parameters, compute the gradient of each block of this worker's shards along
// the fixed tree (src/shards.ts), write it to the block's node slot with the shards' statistics,
// and count itself done.

import { instantiateModule } from "./wasm/loader.js";
import { ShardRunner } from "./shardrunner.js";
import type { LossName } from "./objective.js";
import type { Targets } from "./data.js";
import {
  CMD_STOP,
  CTRL_CMD,
  CTRL_DONE,
  CTRL_FROM,
  CTRL_GEN,
  CTRL_ROWS,
  blocksOf,
  shardsOf,
  slotsOf,
  type WorkerSetup,
} from "./shards.js";

/** What the loop needs of its thread: to say it is ready, and to end abruptly (a test's fault). */
export interface WorkerHost {
  ready(): void;
  exit(code: number): never;
}

/** Builds the replica, says ready, then steps until the coordinator says stop. */
export function serve(setup: WorkerSetup, host: WorkerHost): void {
  const targets: Targets =
    setup.targetKind === "indices"
      ? { kind: "indices", rows: setup.rows, labels: new Int32Array(setup.targets) }
      : { kind: "probabilities", rows: setup.rows, values: new Float32Array(setup.targets) };
  const runner = new ShardRunner(instantiateModule(setup.module, setup.build), {
    model: setup.model,
    loss: setup.loss as LossName,
    temperature: setup.temperature,
    batchSize: setup.batchSize,
    features: setup.features ? { rows: setup.rows, values: new Float32Array(setup.features) } : null,
    targets,
    order: new Int32Array(setup.order),
    stats: new Float64Array(setup.stats),
  });
  const sharedParams = new Float32Array(setup.params);
  const nodes = new Float32Array(setup.nodes);
  const control = new Int32Array(setup.control);
  const blocks = blocksOf(...shardsOf(setup.index, setup.workers));
  const { slot } = slotsOf(setup.workers);
  const count = runner.count;

  const step = (stepNumber: number): void => {
    const fault = setup.fault;
    if (fault && fault.step === stepNumber) {
      if (fault.kind === "exit") host.exit(3);
      throw new Error(`test fault in worker ${setup.index} at step ${stepNumber}`);
    }
    let at = 0;
    for (const p of runner.params) {
      p.array.set(sharedParams.subarray(at, at + p.length));
      at += p.length;
    }
    const from = control[CTRL_FROM]!;
    const rows = control[CTRL_ROWS]!;
    for (const node of blocks) nodes.set(runner.block(node, from, rows).array, slot[node]! * count);
  };

  host.ready();
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
}
