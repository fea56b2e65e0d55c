// The arithmetic of fit() in workers (docs/workers.md), shared by the pool (src/pool.ts) and the
// worker entry (src/worker.ts). A batch of m rows is cut into SHARDS micro-shards of fixed row
// ranges, whatever the number of workers; each shard's gradient is the kernels' sum over its rows
// (scaled by 1 / m), and the batch's gradient is the sum of the shard gradients along one fixed
// binary tree over the shards. Worker w of n owns a contiguous range of shards and sums the largest
// whole subtrees inside it; the coordinator sums the rest of the tree. Every addition is then the
// same float32 addition for any n, so the gradients, the parameters and the history are the same
// bits for n = 1, 2, 4 or 8 (and any other n up to SHARDS).

/** Micro-shards per batch: a power of two, and the most workers a fit uses. */
export const SHARDS = 8;

/** The first row (within the batch) of shard s of a batch of m rows; s = SHARDS gives m. */
export const shardStart = (s: number, m: number): number => Math.floor((s * m) / SHARDS);

// The tree's nodes are numbered as a heap: the root is 1, node i's children are 2i and 2i + 1, and
// shard s is the leaf SHARDS + s. Node i at depth d covers SHARDS >> d shards.

/** The shards [first, end) node i covers. */
export function coverOf(node: number): [number, number] {
  let depth = 0;
  while (node >> (depth + 1) > 0) depth++;
  const width = SHARDS >> depth;
  const first = (node - (1 << depth)) * width;
  return [first, first + width];
}

/** The shards [first, end) worker w of n owns. */
export const shardsOf = (w: number, n: number): [number, number] => [
  Math.floor((w * SHARDS) / n),
  Math.floor(((w + 1) * SHARDS) / n),
];

/** The nodes whose subtrees exactly tile the shards [a, b), left to right (a segment tree's cover). */
export function blocksOf(a: number, b: number): number[] {
  const out: number[] = [];
  const visit = (node: number): void => {
    const [lo, hi] = coverOf(node);
    if (hi <= a || b <= lo) return;
    if (a <= lo && hi <= b) out.push(node);
    else {
      visit(2 * node);
      visit(2 * node + 1);
    }
  };
  visit(1);
  return out;
}

/** The depth of the tree; a sum along it needs one temporary more (a leaf's spare at the bottom). */
export const DEPTH = Math.log2(SHARDS);

/**
 * Sums node's subtree into `into`. `isLeaf(node)` says which nodes are not summed further (shards,
 * or nodes computed elsewhere); `leaf(node, into, add, spare)` writes such a node's value into
 * `into`, or with `add` adds it there (`spare` is free for its use); `add(into, from)` adds.
 * temps[d] holds a right subtree at depth d. Left before right at every node, each node the sum of
 * its children: the one order of additions.
 */
export function sumTree<B>(
  node: number,
  into: B,
  temps: readonly B[],
  isLeaf: (node: number) => boolean,
  leaf: (node: number, into: B, add: boolean, spare: B) => void,
  add: (into: B, from: B) => void,
  depth = 0,
): void {
  const spare = temps[depth]!;
  if (isLeaf(node)) {
    leaf(node, into, false, spare);
    return;
  }
  sumTree(2 * node, into, temps, isLeaf, leaf, add, depth + 1);
  const right = 2 * node + 1;
  if (isLeaf(right)) leaf(right, into, true, spare);
  else {
    sumTree(right, spare, temps, isLeaf, leaf, add, depth + 1);
    add(into, spare);
  }
}

/**
 * Where each node's gradient goes in the shared node slots: its slot for the nodes workers hand
 * over (worker by worker, left to right), -1 for the others; and the number of slots.
 */
export function slotsOf(workers: number): { slot: Int32Array; slots: number } {
  const slot = new Int32Array(2 * SHARDS).fill(-1);
  let slots = 0;
  for (let w = 0; w < workers; w++) for (const b of blocksOf(...shardsOf(w, workers))) slot[b] = slots++;
  return { slot, slots };
}

// The control block: Int32 slots shared by the coordinator and its workers.
/** Bumped by the coordinator to start a step (or to stop, with CMD = CMD_STOP). */
export const CTRL_GEN = 0;
export const CTRL_CMD = 1;
/** The batch's first position in the epoch's order, and its rows. */
export const CTRL_FROM = 2;
export const CTRL_ROWS = 3;
/** Workers done with the current step. */
export const CTRL_DONE = 4;
export const CTRL_SIZE = 8;
export const CMD_STEP = 0;
export const CMD_STOP = 1;

/** Per shard, float64: the loss sum, the KL sum, the correct count, 1 when its logits are bounded. */
export const STAT_FIELDS = 4;

/** What a worker is started with (worker_threads' workerData). */
export interface WorkerSetup {
  /** This worker's index, and the number of workers. */
  index: number;
  workers: number;
  build: "simd" | "scalar" | "fma";
  /** The coordinator's compiled module of that build: a worker instantiates it, compiling nothing. */
  module: WebAssembly.Module;
  /** The model (toJSON()), its parameter arrays' lengths, in order. */
  model: unknown;
  lengths: number[];
  loss: string;
  temperature: number;
  /** The most rows of a batch. */
  batchSize: number;
  inputs: number;
  classes: number;
  /** Shared buffers: features (float32 rows x inputs, or null), targets (int32 labels or float32
   * probabilities), the epoch's order (int32), the parameters (float32), the node slots (float32,
   * slotsOf(workers) slots of the parameter count), the shard statistics, the control. */
  features: SharedArrayBuffer | null;
  targetKind: "indices" | "probabilities";
  targets: SharedArrayBuffer;
  rows: number;
  order: SharedArrayBuffer;
  params: SharedArrayBuffer;
  nodes: SharedArrayBuffer;
  stats: SharedArrayBuffer;
  control: SharedArrayBuffer;
  /** @internal A test-only fault: "throw" or "exit" at this worker's given step (1 first). */
  fault: { kind: "throw" | "exit"; step: number } | null;
}
