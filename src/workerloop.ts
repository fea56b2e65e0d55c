// The loop of a worker of fit({ workers }) (src/pool.ts), the same in a Node worker thread
// (src/worker.ts) and a browser's Web Worker (src/worker.browser.ts): its own wasm instance running a
// ShardRunner (a replica of the model, src/shardrunner.ts); the data, the epoch's order and the
// parameters are read from shared buffers, so nothing is copied per step but the parameters (in),
// the rows it ran (out) and the others' (in), and the units it computed (out). Each step: wait for
// the control's generation to change, claim and run rows while there are any, wait until every row
// is done and take the others' rows, claim and compute units while there are any, and count itself
// done.

import { instantiateModule } from "./wasm/loader.js";
import { ShardRunner } from "./shardrunner.js";
import type { LossName } from "./objective.js";
import type { Targets } from "./data.js";
import {
  CMD_STOP,
  CTRL_CMD,
  CTRL_DONE,
  CTRL_FROM,
  CTRL_CLAIM_QUAD,
  CTRL_CLAIM_UNIT,
  CTRL_GEN,
  CTRL_QUADS_DONE,
  CTRL_ROWS,
  claim,
  type WorkerSetup,
} from "./shards.js";

/** How long a worker spins before it sleeps: for the last shards (a fraction of a millisecond), and
 * for the next step, which comes after the coordinator's optimiser step (a millisecond or less);
 * waking a sleeping thread costs more than that on some machines. */
const SPIN_MS = 2;

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
  const sharedRows = new Float32Array(setup.rowsOut);
  const sharedGrads = new Float32Array(setup.grads);
  const control = new Int32Array(setup.control);
  const offsets: number[] = [];
  let total = 0;
  for (const g of runner.grads) {
    offsets.push(total);
    total += g.length;
  }
  const { index, workers } = setup;
  const units = runner.units.length;

  // Until control[at] differs from `value` (or, with `until`, reaches it); false on a stop.
  const waitFor = (at: number, value: number, until: boolean): boolean => {
    const t0 = performance.now();
    for (let i = 1; ; i++) {
      const v = Atomics.load(control, at);
      if (until ? v >= value : v !== value) return true;
      if (control[CTRL_CMD] === CMD_STOP) return false;
      // A timeout keeps the wait from outliving a coordinator that vanished without a word.
      if ((i & 255) === 0 && performance.now() - t0 > SPIN_MS) Atomics.wait(control, at, v, 1000);
    }
  };

  // false when stopped before the step's end.
  const step = (stepNumber: number): boolean => {
    const fault = setup.fault;
    if (fault && fault.step === stepNumber) {
      if (fault.kind === "exit") host.exit(3);
      throw new Error(`test fault in worker ${index} at step ${stepNumber}`);
    }
    // A thread that wakes late may find every piece claimed: it then copies nothing in.
    const rows = control[CTRL_ROWS]!;
    let loaded = false;
    const load = (params: boolean): void => {
      if (params) {
        let at = 0;
        for (const p of runner.params) {
          p.array.set(sharedParams.subarray(at, at + p.length));
          at += p.length;
        }
      }
      if (!loaded) runner.load(control[CTRL_FROM]!, rows);
      loaded = true;
    };
    const quads = runner.quads(rows);
    const tally = runner.tallyOf(index);
    tally.set([0, 1]);
    const mine: [number, number][] = [];
    for (let c; (c = claim(control, CTRL_CLAIM_QUAD, quads, workers));) {
      if (!loaded) load(true);
      const r0 = runner.quadRow(c[0], rows);
      const r1 = runner.quadRow(c[1], rows);
      runner.rowRun(r0, r1, rows, tally);
      runner.publish(sharedRows, r0, r1);
      mine.push([r0, r1]);
      const n = c[1] - c[0];
      if (Atomics.add(control, CTRL_QUADS_DONE, n) + n === quads) Atomics.notify(control, CTRL_QUADS_DONE);
    }
    let fetched = false;
    for (let c; (c = claim(control, CTRL_CLAIM_UNIT, units, workers));) {
      if (!fetched) {
        // A unit reads every row: the others' rows once they are all done (dW needs no W).
        if (!waitFor(CTRL_QUADS_DONE, quads, true)) return false;
        load(false);
        runner.fetchOthers(sharedRows, mine, rows);
        fetched = true;
      }
      for (let u = c[0]; u < c[1]; u++) {
        runner.unit(u, rows);
        for (const p of runner.pieces[u]!) {
          const g = runner.grads[p.array]!.array;
          sharedGrads.set(g.subarray(p.from, p.to), offsets[p.array]! + p.from);
        }
      }
    }
    return true;
  };

  host.ready();
  let generation = 0;
  let steps = 0;
  for (;;) {
    if (!waitFor(CTRL_GEN, generation, false)) break;
    generation = Atomics.load(control, CTRL_GEN);
    if (control[CTRL_CMD] === CMD_STOP) break;
    if (!step(++steps)) break;
    Atomics.add(control, CTRL_DONE, 1);
    Atomics.notify(control, CTRL_DONE);
  }
}
