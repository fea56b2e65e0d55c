// The one thin loader: picks the SIMD or scalar build, instantiates it through
// @assemblyscript/loader (readable abort messages), and hands out typed views of its memory that
// are re-derived whenever memory growth has detached the old ones.

import { instantiate, instantiateSync } from "@assemblyscript/loader";
import simdBytes from "../../build/klcore.simd.wasm";
import scalarBytes from "../../build/klcore.scalar.wasm";
import { noSimdSupport, noWebAssembly, wasmBlocked } from "../errors.js";
import type { KernelExports } from "./abi.js";

// The module's exports, declared once: src/wasm/abi.ts is generated from the build.
export type { KernelExports } from "./abi.js";

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
