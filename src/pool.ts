// fit({ workers: n }): data-parallel training over n threads (docs/workers.md): this thread is
// worker 0, and n - 1 Node worker_threads the others. The pool lives for one fit() call. At its
// start the training data goes once into shared buffers (read by every worker in place) and each
// worker builds a replica of the model in its own wasm instance (src/worker.ts). Per batch the
// coordinator (this thread) writes the parameters to a shared buffer and starts a step; every
// thread, this one too, claims runs of the batch's rows (src/shardrunner.ts) and publishes them,
// then, once every row is done, claims units of the gradient; the coordinator gathers the units
// into the model's gradients and adds up the rows' losses, and fit() steps the optimiser there as
// it does without workers. The model's parameters change only in that step, so a worker's failure
// leaves them as the last step left them. The threads are Node worker_threads (src/worker.ts) or,
// in a browser, module Web Workers (src/worker.browser.ts), which need a cross-origin isolated page
// for SharedArrayBuffer. Without them this thread runs every row and unit in a replica: the same
// bits, threads: 1, and a one-time warning says why.

import type { DenseModel } from "./models.js";
import type { BatchResult, LossName } from "./objective.js";
import type { Features, Targets } from "./data.js";
import { compiledModule } from "./wasm/loader.js";
import {
  badOption,
  noIsolation,
  noWorkerSupport,
  workerDidNotStart,
  workerExited,
  workerFailed,
  workersFallBack,
} from "./errors.js";
import { ShardRunner, rowWidth } from "./shardrunner.js";
import {
  CMD_STEP,
  CMD_STOP,
  CTRL_CMD,
  CTRL_DONE,
  CTRL_FROM,
  CTRL_CLAIM_QUAD,
  CTRL_CLAIM_UNIT,
  CTRL_GEN,
  CTRL_QUADS_DONE,
  CTRL_ROWS,
  CTRL_SIZE,
  MAX_WORKERS,
  claim,
  statsLength,
  type WorkerSetup,
} from "./shards.js";

/** How long the coordinator spins for the workers before it waits on its event loop. */
const SPIN_MS = 2;

// Node's modules come in by dynamic import of a name esbuild leaves alone (and the comments tell
// webpack and Vite to leave it too), with the little of their types used here: the library's own
// types need no @types/node, and no bundle pulls them in.
interface NodeProcess {
  versions: { node?: string };
  env: Record<string, string | undefined>;
  execArgv: string[];
}
interface NodeWorker {
  on(event: "error", listener: (e: Error) => void): void;
  on(event: "exit", listener: (code: number) => void): void;
  once(event: "message", listener: () => void): void;
  terminate(): Promise<number>;
}
type WorkerClass = new (url: URL, options: { workerData: unknown; execArgv: string[] }) => NodeWorker;
interface NodeOs {
  availableParallelism?: () => number;
  cpus(): unknown[];
}
const WORKER_THREADS: string = "node:worker_threads";
const NODE_WORKER: string = "./worker.js";
const OS: string = "node:os";

const nodeProcess = (): NodeProcess | undefined => (globalThis as { process?: NodeProcess }).process;
const isNode = (): boolean => typeof nodeProcess()?.versions?.node === "string";

/** The workers option, checked: null without it, "auto", or a positive integer. */
export function workersOf(v: unknown): number | "auto" | null {
  if (v === undefined) return null;
  if (v === "auto" || (typeof v === "number" && Number.isSafeInteger(v) && v >= 1)) return v;
  throw badOption("workers", "a positive integer or 'auto'", v);
}

/** The workers a fit uses: n, or the available cores for "auto", and at most MAX_WORKERS. */
async function workerCount(n: number | "auto"): Promise<number> {
  if (n !== "auto") return Math.min(n, MAX_WORKERS);
  let cores: number;
  if (isNode()) {
    const os = (await import(/* webpackIgnore: true */ /* @vite-ignore */ OS)) as NodeOs;
    cores = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
  } else
    cores =
      (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  return Math.max(1, Math.min(cores, MAX_WORKERS));
}

/** What the pool hears from a worker thread. */
interface WorkerEvents {
  ready(): void;
  error(message: string): void;
  exit(code: number): void;
}
/** A started worker thread. */
interface PoolWorker {
  terminate(): Promise<unknown>;
}
type Spawn = (index: number, setup: WorkerSetup, on: WorkerEvents) => PoolWorker;

/** Node worker_threads running dist/worker.js, from beside the bundle. */
async function nodeSpawn(): Promise<Spawn> {
  const { Worker } = (await import(/* webpackIgnore: true */ /* @vite-ignore */ WORKER_THREADS)) as {
    Worker: WorkerClass;
  };
  // Not `new Worker(new URL("./worker.js", import.meta.url))` in one expression: bundlers that
  // follow that pattern (Vite, webpack) would bundle Node's worker into a web app.
  const url = new URL(NODE_WORKER, import.meta.url);
  return (_, setup, on) => {
    const worker = new Worker(url, {
      workerData: setup,
      execArgv: workerArgv(),
    });
    worker.on("error", (e: Error) => on.error(e?.message ?? String(e)));
    worker.on("exit", (code: number) => on.exit(code));
    worker.once("message", () => on.ready());
    return { terminate: () => worker.terminate() };
  };
}

interface WebWorker {
  onmessage: ((e: { data: unknown }) => void) | null;
  onerror: ((e: { message?: string; preventDefault(): void }) => void) | null;
  onmessageerror: (() => void) | null;
  postMessage(message: unknown): void;
  terminate(): void;
}
type WebWorkerClass = new (url: URL, options: { type: "module"; name: string }) => WebWorker;

/**
 * Where the browser's worker module is, for messages: beside the bundle that starts it. webSpawn
 * writes the same URL out inside `new Worker(...)`, where bundlers look for it.
 */
const webWorkerUrl = (): URL => new URL("./klcore.worker.js", import.meta.url);

/**
 * Module Web Workers running dist/klcore.worker.js; the setup goes in the first message (the
 * compiled module and the shared buffers are cloned, not copied). The URL is written inside
 * `new Worker(...)` so that bundlers which follow that pattern (Vite does) emit the worker.
 */
function webSpawn(): Spawn {
  const WebWorkerCtor = (globalThis as unknown as { Worker: WebWorkerClass }).Worker;
  return (index, setup, on) => {
    const worker = new WebWorkerCtor(new URL("./klcore.worker.js", import.meta.url), {
      type: "module",
      name: `klcore fit worker ${index}`,
    });
    worker.onmessage = (e) => {
      if (e.data === "ready") on.ready();
      else if (typeof e.data === "object" && e.data !== null && "exit" in e.data)
        on.exit(Number(e.data.exit));
    };
    worker.onerror = (e) => {
      e.preventDefault();
      on.error(e.message || "the worker's script could not be loaded or run");
    };
    worker.onmessageerror = () => on.error("a message could not be read");
    worker.postMessage(setup);
    return {
      terminate: async () => worker.terminate(),
    };
  };
}

/** Why this environment cannot run worker threads, or null when it can. */
function unsupported(): string | null {
  if (typeof SharedArrayBuffer !== "function") return noIsolation();
  if (isNode()) return null;
  const g = globalThis as { Worker?: unknown; crossOriginIsolated?: boolean };
  if (g.crossOriginIsolated === false) return noIsolation();
  if (typeof g.Worker !== "function" || typeof waitAsync !== "function") return noWorkerSupport();
  return null;
}

type WaitAsync = (
  a: Int32Array,
  index: number,
  value: number,
) => { async: boolean; value: Promise<unknown> | string };
// ES2024's Atomics.waitAsync (Node 16 and later): the coordinator waits without blocking its thread.
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** A shared copy of a typed array. */
function shared<T extends Float32Array | Int32Array>(a: T): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(Math.max(a.byteLength, 4));
  new (a.constructor as new (b: SharedArrayBuffer) => T)(buffer).set(a);
  return buffer;
}

/**
 * The process's Node options for its workers, but those about the main script's source (a worker
 * inherits them, and refuses --input-type; -e would run the script again) and V8's own flags such
 * as --experimental-wasm-relaxed-simd, which a Worker refuses too: they are process-wide, so the
 * worker has them already.
 */
function workerArgv(): string[] {
  const argv = nodeProcess()!.execArgv;
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "-e" || a === "--eval" || a === "-p" || a === "--print") i++;
    else if (!/^--(input-type|eval|print)(=|$)/.test(a) && !/^--(experimental-wasm-|wasm-)/.test(a))
      out.push(a);
  }
  return out;
}

/**
 * The test-only fault of docs/workers.md: KLCORE_WORKER_FAULT=throw:<worker>:<step> or exit:...,
 * from the environment in Node, from globalThis.KLCORE_WORKER_FAULT in a browser.
 */
function faultFor(index: number): WorkerSetup["fault"] {
  const spec = isNode()
    ? nodeProcess()!.env.KLCORE_WORKER_FAULT
    : (globalThis as { KLCORE_WORKER_FAULT?: unknown }).KLCORE_WORKER_FAULT;
  const m = typeof spec === "string" ? /^(throw|exit):(\d+):(\d+)$/.exec(spec) : null;
  if (!m || Number(m[2]) !== index) return null;
  return { kind: m[1] as "throw" | "exit", step: Number(m[3]) };
}

export interface PoolSpec {
  model: DenseModel;
  loss: LossName;
  temperature: number;
  batchSize: number;
  features: Features | null;
  targets: Targets;
  workers: number | "auto";
}

let warned = false;

export class ShardPool {
  readonly threads: number;
  private readonly workers: PoolWorker[] = [];
  private readonly order: Int32Array;
  private readonly stats: Float64Array;
  // With worker threads: the shared buffers.
  private readonly control: Int32Array | null = null;
  private readonly params: Float32Array | null = null;
  private readonly rowsOut: Float32Array | null = null;
  private readonly grads: Float32Array | null = null;
  // This thread's runner (of every shard and unit without worker threads), in the model's instance.
  private local: ShardRunner | null = null;
  private failure: Error | null = null;
  private onFailure: ((e: Error) => void) | null = null;
  private stopping = false;

  private constructor(
    private readonly spec: PoolSpec & { workers: number },
    buffers: Omit<WorkerSetup, "index" | "fault" | "model"> | null,
  ) {
    this.threads = spec.workers;
    if (buffers) {
      this.control = new Int32Array(buffers.control);
      this.order = new Int32Array(buffers.order);
      this.params = new Float32Array(buffers.params);
      this.rowsOut = new Float32Array(buffers.rowsOut);
      this.grads = new Float32Array(buffers.grads);
      this.stats = new Float64Array(buffers.stats);
    } else {
      this.order = new Int32Array(spec.targets.rows);
      this.stats = new Float64Array(statsLength(spec.batchSize));
    }
  }

  /**
   * Starts the workers; resolves once each has its model and data, rejects (none left) if one
   * fails. Without worker threads and shared memory (a page that is not cross-origin isolated), one
   * thread runs every row and unit, the same arithmetic, and a one-time warning says why; so too when a
   * browser's worker script does not start.
   */
  static async start(options: PoolSpec): Promise<ShardPool> {
    const why = unsupported();
    if (why) return ShardPool.startLocal(options, why);
    const spec = { ...options, workers: await workerCount(options.workers) };
    // One worker is this thread: the arithmetic is the same, no thread is needed.
    if (spec.workers === 1) return ShardPool.startLocal(options, null);
    const web = !isNode();
    const spawn = web ? webSpawn() : await nodeSpawn();
    const { model, targets, features } = spec;
    const count = model.parameterCount;
    const buffers = {
      workers: spec.workers,
      build: model.core.build,
      module: compiledModule(model.core.build),
      lengths: model.parameters().map((p) => p.length),
      loss: spec.loss,
      temperature: spec.temperature,
      batchSize: spec.batchSize,
      inputs: model.inputs,
      classes: model.classes,
      features: features ? shared(features.values) : null,
      targetKind: targets.kind,
      targets: shared(targets.kind === "indices" ? targets.labels : targets.values),
      rows: targets.rows,
      order: new SharedArrayBuffer(Math.max(targets.rows, 1) * 4),
      params: new SharedArrayBuffer(count * 4),
      rowsOut: new SharedArrayBuffer(
        Math.max(1, spec.batchSize) * rowWidth(model.layerShapes(), model.classes) * 4,
      ),
      grads: new SharedArrayBuffer(count * 4),
      stats: new SharedArrayBuffer(statsLength(spec.batchSize) * 8),
      control: new SharedArrayBuffer(CTRL_SIZE * 4),
    };
    const pool = new ShardPool(spec, buffers);
    try {
      const json = model.toJSON();
      const ready: Promise<void>[] = [];
      // This thread is worker 0 (it claims rows and units as the threads do), so n workers
      // take n threads, not n + 1 on n cores.
      pool.local = pool.runner(json);
      let started = 0;
      for (let index = 1; index < spec.workers; index++) {
        const data: WorkerSetup = { ...buffers, index, model: json, fault: faultFor(index) };
        ready.push(
          new Promise((resolve) => {
            pool.workers.push(
              spawn(index, data, {
                ready: () => {
                  started++;
                  resolve();
                },
                error: (message) => {
                  if (started < spec.workers - 1) pool.startFailure ??= message;
                  pool.fail(workerFailed(index, message));
                },
                exit: (code) => {
                  if (!pool.stopping) pool.fail(workerExited(index, code));
                },
              }),
            );
          }),
        );
      }
      await pool.until(Promise.all(ready));
      return pool;
    } catch (e) {
      await pool.dispose();
      // A browser's worker module that does not load (a bundle served without it) is not the
      // caller's data or model: train on this thread, and say why.
      if (web && pool.startFailure)
        return ShardPool.startLocal(options, workerDidNotStart(webWorkerUrl().href, pool.startFailure));
      throw e;
    }
  }

  /** With `why`, a one-time warning says why the workers run on this thread. */
  private static startLocal(options: PoolSpec, why: string | null): ShardPool {
    if (why && !warned) {
      warned = true;
      console.warn(workersFallBack(why));
    }
    const pool = new ShardPool({ ...options, workers: 1 }, null);
    pool.local = pool.runner(options.model.toJSON());
    return pool;
  }

  /** Worker 0's runner on this thread, a replica of the model in its instance. */
  private runner(json: unknown): ShardRunner {
    const { spec } = this;
    return new ShardRunner(spec.model.core, {
      model: json,
      loss: spec.loss,
      temperature: spec.temperature,
      batchSize: spec.batchSize,
      features: spec.features,
      targets: spec.targets,
      order: this.order,
      stats: this.stats,
    });
  }

  // A worker's first error, when it came before every worker was ready.
  private startFailure: string | null = null;

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    this.onFailure?.(e);
  }

  /** `p`, or the first worker failure, whichever comes first. */
  private until<T>(p: Promise<T>): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      this.onFailure = reject;
      p.then(resolve, reject);
    }).finally(() => {
      this.onFailure = null;
    });
  }

  /** The epoch's order of the training rows (read by the workers at each step). */
  setOrder(order: Int32Array): void {
    this.order.set(order);
  }

  /**
   * One batch, rows order[from, from + rows): its statistics, with the gradient of its mean loss in
   * the model's gradient arrays (as Batch.run leaves it).
   */
  async step(from: number, rows: number): Promise<BatchResult> {
    const model = this.spec.model;
    const k = model.core.k;
    const runner = this.local!;
    const grads = model.gradients();
    const copyUnit = (u: number): void => {
      for (const p of runner.pieces[u]!) {
        const g = grads[p.array]!;
        k.copy(g.ptr + p.from * 4, runner.grads[p.array]!.ptr + p.from * 4, (p.to - p.from) * 4);
      }
    };
    const control = this.control;
    const n = this.threads;
    if (!control) {
      model.parameters().forEach((p, i) => k.copy(runner.params[i]!.ptr, p.ptr, p.length * 4));
      runner.all(from, rows);
      runner.units.forEach((_, u) => copyUnit(u));
    } else {
      let at = 0;
      for (const p of model.parameters()) {
        this.params!.set(p.array, at);
        at += p.length;
      }
      control[CTRL_FROM] = from;
      control[CTRL_ROWS] = rows;
      control[CTRL_CMD] = CMD_STEP;
      for (const c of [CTRL_DONE, CTRL_CLAIM_QUAD, CTRL_QUADS_DONE, CTRL_CLAIM_UNIT])
        Atomics.store(control, c, 0);
      Atomics.add(control, CTRL_GEN, 1);
      Atomics.notify(control, CTRL_GEN);
      model.parameters().forEach((p, i) => k.copy(runner.params[i]!.ptr, p.ptr, p.length * 4));
      runner.load(from, rows);
      const quads = runner.quads(rows);
      const tally = runner.tallyOf(0);
      tally.set([0, 1]);
      const mine: [number, number][] = [];
      for (let c; (c = claim(control, CTRL_CLAIM_QUAD, quads, n));) {
        const r0 = runner.quadRow(c[0], rows);
        const r1 = runner.quadRow(c[1], rows);
        runner.rowRun(r0, r1, rows, tally);
        runner.publish(this.rowsOut!, r0, r1);
        mine.push([r0, r1]);
        const q = c[1] - c[0];
        if (Atomics.add(control, CTRL_QUADS_DONE, q) + q === quads) Atomics.notify(control, CTRL_QUADS_DONE);
      }
      await this.until(this.reached(control, CTRL_QUADS_DONE, quads));
      runner.fetchOthers(this.rowsOut!, mine, rows);
      const units = runner.units.length;
      const done = new Uint8Array(units);
      for (let c; (c = claim(control, CTRL_CLAIM_UNIT, units, n));) {
        for (let u = c[0]; u < c[1]; u++) {
          runner.unit(u, rows);
          copyUnit(u);
          done[u] = 1;
        }
      }
      // Every worker thread has written its units once it says it is done.
      await this.until(this.reached(control, CTRL_DONE, this.threads - 1));
      const offsets: number[] = [];
      let total = 0;
      for (const g of grads) {
        offsets.push(total);
        total += g.length;
      }
      for (let u = 0; u < units; u++) {
        if (done[u]) continue;
        for (const p of runner.pieces[u]!) {
          const o = offsets[p.array]!;
          grads[p.array]!.array.set(this.grads!.subarray(o + p.from, o + p.to), p.from);
        }
      }
    }
    // The rows' statistics, added up as one pass over the batch adds them.
    const t = runner.totals(rows, n);
    return { loss: t.lossSum / rows, kl: t.klSum / rows, correct: t.correct, bounded: t.bounded };
  }

  /** Until control[index] reaches target: a short spin, then a wait that leaves the event loop free. */
  private async reached(control: Int32Array, index: number, target: number): Promise<void> {
    const t0 = performance.now();
    while (Atomics.load(control, index) < target && performance.now() - t0 < SPIN_MS);
    for (;;) {
      const v = Atomics.load(control, index);
      if (v >= target) return;
      const wait = waitAsync(control, index, v);
      if (wait.async) await wait.value;
    }
  }

  /** Stops every worker and waits until each has exited; the pool cannot step afterwards. */
  async dispose(): Promise<void> {
    this.stopping = true;
    if (this.control) {
      this.control[CTRL_CMD] = CMD_STOP;
      Atomics.add(this.control, CTRL_GEN, 1);
      Atomics.notify(this.control, CTRL_GEN);
      Atomics.notify(this.control, CTRL_QUADS_DONE);
    }
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
    this.local?.dispose();
    this.local = null;
  }
}
