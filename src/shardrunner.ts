// A step of fit() in workers (src/shards.ts) on one wasm instance: a replica of the model and a
// Batch sized for the whole batch. A step has two halves: runs of rows (their forward pass, loss and
// deltas; rows are independent), whose layer inputs and deltas every thread then needs, and units
// of the gradient (rows of a layer's dW over all of the batch's rows, or every bias). A worker
// thread (src/worker.ts) runs the rows and units it claims with one, and so does the coordinator
// (src/pool.ts); without worker threads the coordinator runs them all, so the result is the same
// bits either way.

import type { Core } from "./wasm/loader.js";
import { Scratch, type WasmArray } from "./wasm/memory.js";
import { loadModel, type DenseModel } from "./models.js";
import { Batch, type LossName, type RowValues } from "./objective.js";
import type { Features, Targets } from "./data.js";
import { MAX_WORKERS, quadCount, quadStart } from "./shards.js";

export interface RunnerSpec {
  /** The model as toJSON() gives it: the replica's architecture and first parameters. */
  model: unknown;
  loss: LossName;
  temperature: number;
  batchSize: number;
  features: Features | null;
  targets: Targets;
  /** The epoch's order of the training rows, read at each step. */
  order: Int32Array;
  /** The step's statistics (statsLength floats: src/shards.ts), written at each step. */
  stats: Float64Array;
}

/** A piece of the parameter gradient: floats [from, to) of gradient array `array`. */
export interface GradPiece {
  array: number;
  from: number;
  to: number;
}

/** A unit of the gradient: rows [lo, hi) of layer `layer`'s dW, or (layer -1) every bias. */
export interface Unit {
  layer: number;
  lo: number;
  hi: number;
}

type Shape = { inputs: number; outputs: number; bias: boolean };

/**
 * The units of a model's gradient: each layer's dW cut into up to 32 blocks of rows (multiples of
 * four, the kernels' tile) of about 4096 floats or more, then one unit for the biases.
 */
export function unitsOf(layers: readonly Shape[]): Unit[] {
  const out: Unit[] = [];
  layers.forEach((l, layer) => {
    const parts = Math.min(32, Math.max(1, Math.ceil((l.inputs * l.outputs) / 4096)));
    const step = 4 * Math.ceil(l.inputs / (4 * parts));
    for (let lo = 0; lo < l.inputs; lo += step) out.push({ layer, lo, hi: Math.min(l.inputs, lo + step) });
  });
  if (layers.some((l) => l.bias)) out.push({ layer: -1, lo: 0, hi: 0 });
  return out;
}

/** Where a unit's values lie in the gradient arrays (dw, db of each layer, in order). */
export function piecesOf(layers: readonly Shape[], u: Unit): GradPiece[] {
  const out: GradPiece[] = [];
  let array = 0;
  layers.forEach((l, i) => {
    if (i === u.layer) out.push({ array, from: u.lo * l.outputs, to: u.hi * l.outputs });
    array++;
    if (l.bias) {
      if (u.layer === -1) out.push({ array, from: 0, to: l.outputs });
      array++;
    }
  });
  return out;
}

/** Floats per batch row of the rows a step's halves exchange (RowExchange), for a model's layers. */
export function rowWidth(layers: readonly { outputs: number }[], classes: number): number {
  return 2 * layers.slice(0, -1).reduce((s, l) => s + l.outputs, 0) + classes;
}

export class ShardRunner {
  readonly count: number;
  /** The replica's parameter arrays, in order, and its gradient arrays. */
  readonly params: WasmArray<"float32">[];
  readonly grads: WasmArray<"float32">[];
  readonly layers: Shape[];
  /** The units of the gradient, and where each one's values lie in the gradient arrays. */
  readonly units: Unit[];
  readonly pieces: GradPiece[][];
  private readonly model: DenseModel;
  private readonly batch: Batch;
  // The buffers whose rows the halves exchange: hidden inputs, hidden deltas, the logits' gradient.
  private readonly exchanged: { ptr: number; width: number }[];

  constructor(
    private readonly core: Core,
    private readonly spec: RunnerSpec,
  ) {
    this.model = loadModel(core, new Scratch(core), spec.model) as DenseModel;
    try {
      this.params = this.model.parameters();
      this.grads = this.model.gradients();
      this.count = this.model.parameterCount;
      this.layers = this.model.layerShapes();
      this.units = unitsOf(this.layers);
      this.pieces = this.units.map((u) => piecesOf(this.layers, u));
      const capacity = Math.max(1, spec.batchSize);
      this.batch = new Batch(core, this.model, spec.loss, spec.targets, capacity);
      this.model.reserveRows(capacity);
      this.exchanged = [...this.model.rowBuffers(), { ptr: this.batch.gradPtr, width: this.model.classes }];
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** Loads the batch order[from, from + rows): every row, since every unit reads them all. */
  load(from: number, rows: number): void {
    const { spec } = this;
    this.batch.load(spec.features, spec.order, from, rows);
  }

  /** The quads of a batch of m rows (src/shards.ts), and the first row of quad q. */
  quads(m: number): number {
    return quadCount(m, this.batch.chunkRows);
  }

  quadRow(q: number, m: number): number {
    return quadStart(q, m, this.batch.chunkRows);
  }

  /**
   * Rows [r0, r1) of the loaded batch of `rows` rows: forward, loss and deltas, each row's loss and
   * KL into the statistics; adds their correct count to `tally[0]` and clears `tally[1]` when a
   * logit was unbounded.
   */
  rowRun(r0: number, r1: number, rows: number, tally: Float64Array): void {
    const { spec } = this;
    const b = spec.batchSize;
    const out: RowValues = { loss: spec.stats.subarray(0, b), kl: spec.stats.subarray(b, 2 * b) };
    const r = this.batch.rowPass(spec.temperature, rows, r0, r1 - r0, out);
    tally[0] = tally[0]! + r.correct;
    if (!r.bounded) tally[1] = 0;
  }

  /** Thread w's tally of a step's rows, in the statistics (where the coordinator adds them up). */
  tallyOf(w: number): Float64Array {
    const at = 2 * this.spec.batchSize + 2 * w;
    return this.spec.stats.subarray(at, at + 2);
  }

  /** The step's statistics from the statistics buffer: the sums as a pass over every row gives. */
  totals(
    rows: number,
    threads: number,
  ): { lossSum: number; klSum: number; correct: number; bounded: boolean } {
    const { stats, batchSize } = this.spec;
    let correct = 0;
    let bounded = true;
    for (let w = 0; w < Math.min(threads, MAX_WORKERS); w++) {
      const t = this.tallyOf(w);
      correct += t[0]!;
      bounded &&= t[1] === 1;
    }
    return {
      lossSum: this.batch.sumRows(stats.subarray(0, batchSize), rows),
      klSum: this.batch.sumRows(stats.subarray(batchSize, 2 * batchSize), rows),
      correct,
      bounded,
    };
  }

  /** Unit u of the gradient (of the batch of `rows` rows) into the replica's gradient arrays. */
  unit(u: number, rows: number): void {
    const { layer, lo, hi } = this.units[u]!;
    const x = this.batch.xPtr;
    const dz = this.batch.gradPtr;
    if (layer >= 0) this.model.weightRows(x, dz, rows, layer, lo, hi, false);
    else this.layers.forEach((l, i) => l.bias && this.model.weightRows(x, dz, rows, i, 0, 0, true));
  }

  /** Every row, then every unit: the whole step on this thread. */
  all(from: number, rows: number): void {
    this.load(from, rows);
    const tally = this.tallyOf(0);
    tally.set([0, 1]);
    this.rowRun(0, rows, rows, tally);
    for (let u = 0; u < this.units.length; u++) this.unit(u, rows);
  }

  /** Rows [r0, r1) of the exchanged buffers into `shared` (batchSize x rowWidth floats, buffer by buffer). */
  publish(shared: Float32Array, r0: number, r1: number): void {
    const f = this.core.f32();
    const capacity = this.spec.batchSize;
    let base = 0;
    for (const b of this.exchanged) {
      const at = b.ptr >>> 2;
      shared.set(f.subarray(at + r0 * b.width, at + r1 * b.width), base + r0 * b.width);
      base += capacity * b.width;
    }
  }

  /** Rows [r0, r1) of the exchanged buffers from `shared`, as publish() wrote them. */
  fetch(shared: Float32Array, r0: number, r1: number): void {
    if (r1 <= r0) return;
    const f = this.core.f32();
    const capacity = this.spec.batchSize;
    let base = 0;
    for (const b of this.exchanged) {
      f.set(shared.subarray(base + r0 * b.width, base + r1 * b.width), (b.ptr >>> 2) + r0 * b.width);
      base += capacity * b.width;
    }
  }

  /** Fetches every row of `rows` outside the runs [r0, r1) in `mine` (sorted, disjoint). */
  fetchOthers(shared: Float32Array, mine: readonly [number, number][], rows: number): void {
    let at = 0;
    for (const [r0, r1] of mine) {
      this.fetch(shared, at, r0);
      at = r1;
    }
    this.fetch(shared, at, rows);
  }

  dispose(): void {
    // The fields may be unset when the constructor failed.
    (this.batch as Batch | undefined)?.dispose();
    this.model.dispose();
  }
}
