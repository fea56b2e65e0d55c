// The arithmetic of fit() in workers (docs/workers.md), shared by the pool (src/pool.ts) and the
// worker entry (src/worker.ts). A step has two halves (src/shardrunner.ts): rows of the batch (their
// forward pass, loss and deltas; every row's values are the same bits however rows are grouped, as
// long as groups start on the loss kernels' grid of four rows), then units of the gradient (rows of
// a layer's dW over all of the batch's rows, or the biases; each element the same sum in the same
// order, whoever computes it). The threads claim rows, then units, a run at a time, larger runs
// first, so a thread that runs slow does less. The gradient is then the bits of fit() without
// workers, and so is the history: the coordinator sums the rows' losses as one pass would.

/** The most workers a fit uses. */
export const MAX_WORKERS = 8;

/**
 * The rows of a batch come in quads: four rows from the start of each chunk of `chunk` rows the loss
 * kernels take at a time (they take small rows four at a time from a chunk's start), the last of a
 * chunk or of the batch shorter. A run of quads gives each row the arithmetic of a pass over the
 * whole batch.
 */
export function quadCount(m: number, chunk: number): number {
  const perChunk = Math.ceil(chunk / 4);
  return Math.floor(m / chunk) * perChunk + Math.ceil((m % chunk) / 4);
}

/** The first row of quad q (q = quadCount(m, chunk) gives m). */
export function quadStart(q: number, m: number, chunk: number): number {
  const perChunk = Math.ceil(chunk / 4);
  const c = Math.floor(q / perChunk);
  return Math.min(m, c * chunk + 4 * (q - c * perChunk));
}

// The control block: Int32 slots shared by the coordinator and its workers.
/** Bumped by the coordinator to start a step (or to stop, with CMD = CMD_STOP). */
export const CTRL_GEN = 0;
export const CTRL_CMD = 1;
/** The batch's first position in the epoch's order, and its rows. */
export const CTRL_FROM = 2;
export const CTRL_ROWS = 3;
/** Worker threads done with the current step (each says so once it finds no more work). */
export const CTRL_DONE = 4;
/** A step's work is claimed run by run: the next quad to claim, the quads done (their rows
 * published), the next unit of the gradient to claim (ShardRunner's units). */
export const CTRL_CLAIM_QUAD = 5;
export const CTRL_QUADS_DONE = 6;
export const CTRL_CLAIM_UNIT = 7;
export const CTRL_SIZE = 8;

/**
 * The next run [first, end) of the `total` pieces counted at control[at], or null when all are
 * claimed: a share of what is left (a quarter per thread), at least one piece, so the runs shrink
 * towards the end and the threads finish together.
 */
export function claim(
  control: Int32Array,
  at: number,
  total: number,
  threads: number,
): [number, number] | null {
  for (;;) {
    const first = Atomics.load(control, at);
    if (first >= total) return null;
    const end = Math.min(total, first + Math.max(1, Math.ceil((total - first) / (4 * threads))));
    if (Atomics.compareExchange(control, at, first, end) === first) return [first, end];
  }
}

export const CMD_STEP = 0;
export const CMD_STOP = 1;

/**
 * A step's statistics, float64: each row's loss, then each row's KL (batchSize each), then per
 * worker its rows' correct count and 1 when all their logits were bounded.
 */
export const statsLength = (batchSize: number): number => 2 * batchSize + 2 * MAX_WORKERS;

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
   * probabilities), the epoch's order (int32), the parameters (float32), the exchanged rows
   * (float32, batchSize x rowWidth), the gradient (float32, the parameters' count), the step's
   * statistics (statsLength), the control. */
  features: SharedArrayBuffer | null;
  targetKind: "indices" | "probabilities";
  targets: SharedArrayBuffer;
  rows: number;
  order: SharedArrayBuffer;
  params: SharedArrayBuffer;
  rowsOut: SharedArrayBuffer;
  grads: SharedArrayBuffer;
  stats: SharedArrayBuffer;
  control: SharedArrayBuffer;
  /** @internal A test-only fault: "throw" or "exit" at this worker's given step (1 first). */
  fault: { kind: "throw" | "exit"; step: number } | null;
}
