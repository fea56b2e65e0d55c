// The one thin loader: picks the SIMD or scalar build, instantiates it through
// @assemblyscript/loader (readable abort messages), and hands out typed views of its memory that
// are re-derived whenever memory growth has detached the old ones.

import { instantiate, instantiateSync } from "@assemblyscript/loader";
import simdBytes from "../../build/klcore.simd.wasm";
import scalarBytes from "../../build/klcore.scalar.wasm";
import { noSimdSupport, noWebAssembly, wasmBlocked } from "../errors.js";

/** The kernels and allocation entry points exported by assembly/index.ts. */
export type KernelExports = {
  readonly memory: WebAssembly.Memory;
  alloc(size: number): number;
  dealloc(ptr: number): void;
  zero(ptr: number, size: number): void;
  divergence_f32(
    fn: number,
    mode: number,
    p: number,
    q: number,
    rows: number,
    cols: number,
    scales: number,
    st: number,
  ): void;
  divergence_f64(
    fn: number,
    mode: number,
    p: number,
    q: number,
    rows: number,
    cols: number,
    scales: number,
    st: number,
  ): void;
  rowsums_f32(mode: number, p: number, q: number, rows: number, cols: number, st: number): void;
  rowsums_f64(mode: number, p: number, q: number, rows: number, cols: number, st: number): void;
  finish(fn: number, opts: number, st: number, rows: number, scale: number, tol: number, out: number): number;
  normalizing_scales(st: number, rows: number, scales: number): void;
  check_rows(st: number, rows: number, withQ: number, sums: number, tol: number): number;
  rel_entr_f32(p: number, q: number, out: number, n: number): void;
  rel_entr_f64(p: number, q: number, out: number, n: number): void;
  // assembly/softmax.ts
  logsumexp_f32(z: number, rows: number, c: number, out: number): number;
  logsumexp_f64(z: number, rows: number, c: number, out: number): number;
  softmax_f32(z: number, rows: number, c: number, invT: number, log: number, out: number): number;
  softmax_f64(z: number, rows: number, c: number, invT: number, log: number, out: number): number;
  xent_probs_f32(
    z: number,
    t: number,
    w: number,
    rows: number,
    c: number,
    eps: number,
    invT: number,
    flags: number,
    gradScale: number,
    grad: number,
    loss: number,
    work: number,
    sumTol: number,
  ): number;
  xent_probs_f64(
    z: number,
    t: number,
    w: number,
    rows: number,
    c: number,
    eps: number,
    invT: number,
    flags: number,
    gradScale: number,
    grad: number,
    loss: number,
    work: number,
    sumTol: number,
  ): number;
  xent_index_f32(
    z: number,
    y: number,
    w: number,
    wSum: number,
    rows: number,
    c: number,
    eps: number,
    invT: number,
    ignore: number,
    flags: number,
    gradScale: number,
    grad: number,
    loss: number,
    work: number,
  ): number;
  xent_index_f64(
    z: number,
    y: number,
    w: number,
    wSum: number,
    rows: number,
    c: number,
    eps: number,
    invT: number,
    ignore: number,
    flags: number,
    gradScale: number,
    grad: number,
    loss: number,
    work: number,
  ): number;
  // assembly/probloss.ts
  probloss_f32(
    kind: number,
    z: number,
    t: number,
    rows: number,
    c: number,
    invT: number,
    flags: number,
    gradScale: number,
    grad: number,
    work: number,
    loss: number,
  ): number;
  probloss_f64(
    kind: number,
    z: number,
    t: number,
    rows: number,
    c: number,
    invT: number,
    flags: number,
    gradScale: number,
    grad: number,
    work: number,
    loss: number,
  ): number;
  // assembly/reduce.ts
  sum_f64(p: number, n: number): number;
  finite_f32(p: number, n: number): number;
  bounded_f32(p: number, n: number, limit: number): number;
  correct_index_f32(z: number, y: number, rows: number, cols: number): number;
  correct_probs_f32(z: number, p: number, rows: number, cols: number): number;
  copy_finite_f32(dst: number, src: number, n: number): number;
  // assembly/logistic.ts, assembly/gaussian.ts, assembly/rows.ts (elementwise losses)
  bce_logits_f32(
    y: number,
    z: number,
    w: number,
    g: number,
    terms: number,
    n: number,
    gscale: number,
    st: number,
  ): void;
  bce_logits_f64(
    y: number,
    z: number,
    w: number,
    g: number,
    terms: number,
    n: number,
    gscale: number,
    st: number,
  ): void;
  gaussian_kl_f32(
    mp: number,
    lvp: number,
    mq: number,
    lvq: number,
    gmp: number,
    glvp: number,
    gmq: number,
    glvq: number,
    terms: number,
    n: number,
    gscale: number,
    st: number,
  ): void;
  gaussian_kl_f64(
    mp: number,
    lvp: number,
    mq: number,
    lvq: number,
    gmp: number,
    glvp: number,
    gmq: number,
    glvq: number,
    terms: number,
    n: number,
    gscale: number,
    st: number,
  ): void;
  row_totals(terms: number, rows: number, cols: number, out: number): void;
  // assembly/linear.ts
  dense_forward_f32(
    x: number,
    w: number,
    b: number,
    y: number,
    rows: number,
    inputs: number,
    outputs: number,
  ): void;
  dense_backward_f32(
    x: number,
    w: number,
    dy: number,
    dx: number,
    dw: number,
    db: number,
    rows: number,
    inputs: number,
    outputs: number,
  ): void;
  relu_f32(x: number, y: number, n: number): void;
  relu_backward_f32(y: number, dy: number, dx: number, n: number): void;
  tanh_f32(x: number, y: number, n: number): void;
  tanh_backward_f32(y: number, dy: number, dx: number, n: number): void;
  // assembly/optim.ts
  sgd_f32(
    p: number,
    g: number,
    b: number,
    n: number,
    lr: number,
    wd: number,
    mu: number,
    damp: number,
    flags: number,
  ): void;
  adam_f32(
    p: number,
    g: number,
    m: number,
    v: number,
    n: number,
    b1: number,
    b2: number,
    eps: number,
    lr: number,
    t: number,
    wd: number,
    decay: number,
  ): void;
  rmsprop_f32(
    p: number,
    g: number,
    v: number,
    c: number,
    b: number,
    n: number,
    lr: number,
    alpha: number,
    eps: number,
    wd: number,
    mu: number,
  ): void;
  adagrad_f32(p: number, g: number, s: number, n: number, clr: number, eps: number, wd: number): void;
  sumsq_f32(x: number, n: number): number;
  scale_f32(x: number, n: number, s: number): void;
  optim_f64(kind: number, h: number, p: number, g: number, s: number, n: number, lr: number, t: number): void;
  // assembly/vi.ts, assembly/vitargets.ts
  normals(seed: number, stream: number, counter: number, n: number, out: number): void;
  vi_draw(
    family: number,
    d: number,
    theta: number,
    seed: number,
    stream: number,
    counter: number,
    n: number,
    e: number,
    z: number,
  ): void;
  vi_entropy(family: number, d: number, theta: number): number;
  vi_logw(family: number, d: number, theta: number, e: number, lp: number, n: number, out: number): void;
  vi_logq(family: number, d: number, theta: number, z: number, n: number, work: number, out: number): void;
  vi_init_scale(family: number, d: number, theta: number, scale: number): void;
  vi_moments(family: number, d: number, theta: number, sd: number, cov: number): void;
  vi_start(ctx: number): void;
  vi_update(ctx: number, lr: number, t: number): number;
  vi_run(ctx: number, steps: number, lr: number, t0: number, hist: number): number;
  vit_eval(
    kind: number,
    data: number,
    tn: number,
    d: number,
    z: number,
    gz: number,
    lp: number,
    n: number,
    work: number,
  ): void;
  vit_gaussian_setup(cov: number, d: number, data: number, work: number): number;
  vi_summary(w: number, n: number, out: number): void;
  // assembly/psis.ts
  psis_smooth(x: number, n: number, order: number, work: number): number;
  // assembly/index.ts: fit's copies of the parameters put back
  copy(dst: number, src: number, size: number): void;
};

export interface LoadOptions {
  /** Force the SIMD build (true) or the scalar build (false); default: SIMD where the engine has it. */
  simd?: boolean;
}

let simdSupported: boolean | undefined;

/** Whether this engine validates the SIMD build (so it can run it). */
export function hasSimd(): boolean {
  if (typeof WebAssembly !== "object") throw noWebAssembly();
  simdSupported ??= WebAssembly.validate(simdBytes);
  return simdSupported;
}

function chooseSimd(options: LoadOptions | undefined): boolean {
  const want = options?.simd;
  if (want === true && !hasSimd()) throw noSimdSupport();
  return want ?? hasSimd();
}

const compiled: { simd?: WebAssembly.Module; scalar?: WebAssembly.Module } = {};

/** A live module instance: its exports and views of its memory. */
export class Core {
  readonly simd: boolean;
  readonly k: KernelExports;
  // Memory's buffer and views, cached: WebAssembly.Memory#buffer is a slow API getter, and memory
  // grows only in alloc() (kernels never allocate), after which grown() renews them.
  private buffer: ArrayBuffer;
  private f32View: Float32Array;
  private f64View: Float64Array;
  private i32View: Int32Array;

  constructor(simd: boolean, exports: KernelExports) {
    this.simd = simd;
    this.k = exports;
    this.buffer = exports.memory.buffer;
    this.f32View = new Float32Array(this.buffer);
    this.f64View = new Float64Array(this.buffer);
    this.i32View = new Int32Array(this.buffer);
  }

  get memoryBuffer(): ArrayBuffer {
    return this.buffer;
  }

  /** A Float32Array over all of memory. */
  f32(): Float32Array {
    return this.f32View;
  }

  /** A Float64Array over all of memory. */
  f64(): Float64Array {
    return this.f64View;
  }

  /** An Int32Array over all of memory. */
  i32(): Int32Array {
    return this.i32View;
  }

  /** Renews the cached buffer and views after an allocation (which may have grown memory). */
  grown(): void {
    const buffer = this.k.memory.buffer;
    if (buffer !== this.buffer) {
      this.buffer = buffer;
      this.f32View = new Float32Array(buffer);
      this.f64View = new Float64Array(buffer);
      this.i32View = new Int32Array(buffer);
    }
  }
}

function bytesFor(simd: boolean): Uint8Array<ArrayBuffer> {
  return simd ? simdBytes : scalarBytes;
}

// A CSP without 'wasm-unsafe-eval' makes compilation throw a CompileError (or EvalError) that says
// nothing about the fix; anything else is rethrown as it is.
function explain(e: unknown): unknown {
  const text = String((e as Error | undefined)?.message ?? e);
  return /Content.Security.Policy|unsafe-eval/i.test(text) ? wasmBlocked(e) : e;
}

export function loadSync(options?: LoadOptions): Core {
  const simd = chooseSimd(options);
  const key = simd ? "simd" : "scalar";
  try {
    const module = (compiled[key] ??= new WebAssembly.Module(bytesFor(simd)));
    const { exports } = instantiateSync<KernelExports>(module, {});
    return new Core(simd, exports);
  } catch (e) {
    throw explain(e);
  }
}

export async function load(options?: LoadOptions): Promise<Core> {
  const simd = chooseSimd(options);
  const key = simd ? "simd" : "scalar";
  try {
    const module = (compiled[key] ??= await WebAssembly.compile(bytesFor(simd)));
    const { exports } = await instantiate<KernelExports>(module, {});
    return new Core(simd, exports);
  } catch (e) {
    throw explain(e);
  }
}
