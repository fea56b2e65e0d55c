// The shards' arithmetic (src/shards.ts) on one wasm instance: a replica of the model, a Batch
// sized for one shard, and the tree's buffers. A worker (src/worker.ts) runs its blocks of shards
// with one; without worker threads fit runs every shard with one on its own thread (src/pool.ts), so
// the result is the same bits either way.

import type { Core } from "./wasm/loader.js";
import { Scratch, WasmArray } from "./wasm/memory.js";
import { loadModel, type DenseModel } from "./models.js";
import { Batch, type LossName } from "./objective.js";
import type { Features, Targets } from "./data.js";
import { DEPTH, SHARDS, STAT_FIELDS, shardStart, sumTree } from "./shards.js";

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
  /** Per shard, STAT_FIELDS float64 written at each step. */
  stats: Float64Array;
}

export class ShardRunner {
  readonly count: number;
  /** The replica's parameter arrays, in order. */
  readonly params: WasmArray<"float32">[];
  private readonly model: DenseModel;
  private readonly grads: WasmArray<"float32">[];
  private readonly offsets: number[];
  private readonly batch: Batch;
  // A block's sum and the tree's temporaries (one more than its depth: a right leaf's spare).
  private readonly sums: WasmArray<"float32">[] = [];

  constructor(
    private readonly core: Core,
    private readonly spec: RunnerSpec,
  ) {
    this.model = loadModel(core, new Scratch(core), spec.model) as DenseModel;
    try {
      this.params = this.model.parameters();
      this.grads = this.model.gradients();
      this.count = this.model.parameterCount;
      let at = 0;
      this.offsets = this.params.map((p) => {
        const o = at;
        at += p.length;
        return o;
      });
      // A shard holds at most ceil(batchSize / SHARDS) rows.
      const capacity = Math.max(1, Math.ceil(spec.batchSize / SHARDS));
      this.batch = new Batch(core, this.model, spec.loss, spec.targets, capacity);
      for (let i = 0; i <= DEPTH + 1; i++) this.sums.push(new WasmArray(core, "float32", this.count));
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** The gradient of node's shards of the batch order[from, from + rows), as a WasmArray. */
  block(node: number, from: number, rows: number): WasmArray<"float32"> {
    const [top, ...temps] = this.sums;
    const k = this.core.k;
    sumTree(
      node,
      top!,
      temps,
      (i) => i >= SHARDS,
      (i, into, add, spare) => this.shard(i, into, add, spare, from, rows),
      (into, right) => k.add_f32(into.ptr, right.ptr, this.count),
    );
    return top!;
  }

  // Shard `node`'s gradient into `into`, or added to it (`add`); its statistics into spec.stats.
  private shard(
    node: number,
    into: WasmArray<"float32">,
    add: boolean,
    spare: WasmArray<"float32">,
    from: number,
    rows: number,
  ): void {
    const k = this.core.k;
    const { count, spec } = this;
    const s = node - SHARDS;
    const a = shardStart(s, rows);
    const n = shardStart(s + 1, rows) - a;
    const at = s * STAT_FIELDS;
    if (n === 0) {
      // An empty shard (a batch of fewer rows than shards) is exact zeros, added as any node is.
      k.zero((add ? spare : into).ptr, count * 4);
      if (add) k.add_f32(into.ptr, spare.ptr, count);
      spec.stats.set([0, 0, 0, 1], at);
      return;
    }
    this.batch.load(spec.features, spec.order, from + a, n);
    const r = this.batch.sums(spec.temperature, true, rows);
    this.grads.forEach((g, i) => {
      const to = into.ptr + this.offsets[i]! * 4;
      if (add) k.add_f32(to, g.ptr, g.length);
      else k.copy(to, g.ptr, g.length * 4);
    });
    spec.stats.set([r.lossSum, r.klSum, r.correct, r.bounded ? 1 : 0], at);
  }

  dispose(): void {
    // The fields may be unset when the constructor failed.
    (this.batch as Batch | undefined)?.dispose();
    for (const a of this.sums) a.free();
    this.sums.length = 0;
    this.model.dispose();
  }
}
