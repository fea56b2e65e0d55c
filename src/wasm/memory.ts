// Ownership of wasm memory. Scratch space is reused across calls (memory stays flat); WasmArray
// handles are the zero-copy path: the caller fills them in place and every function reads them
// without copying. Any allocation may grow memory and detach views, so views are re-derived after.

import type { Core } from "./loader.js";
import { badDtype, badLength, freedBuffer, outOfMemory } from "../errors.js";

export type Dtype = "float32" | "float64";
export type FloatArray = Float32Array | Float64Array;
export type ArrayOf<D extends Dtype> = D extends "float32" ? Float32Array : Float64Array;

export const bytesPer = (dtype: Dtype): number => (dtype === "float32" ? 4 : 8);

// TLSF's largest block is just under 1 GiB; wasm32 memory stops at 4 GiB.
const MAX_BLOCK = 2 ** 30 - 64;

/** Allocates `bytes` in wasm memory or throws a RangeError; the module stays usable either way. */
export function allocate(core: Core, bytes: number): number {
  if (bytes > MAX_BLOCK) throw outOfMemory(bytes);
  try {
    return core.k.alloc(Math.max(bytes, 16));
  } catch {
    // The allocator traps before changing its state when memory cannot grow.
    throw outOfMemory(bytes);
  } finally {
    core.grown();
  }
}

/** One reusable scratch block per instance, grown on demand and never shrunk. */
export class Scratch {
  private ptr = 0;
  private capacity = 0;

  constructor(private readonly core: Core) {}

  /** A block of at least `bytes`, 16-byte aligned; its contents are not preserved across calls. */
  take(bytes: number): number {
    if (bytes > this.capacity) {
      const want = Math.max(bytes, Math.min(this.capacity * 2, MAX_BLOCK));
      if (this.ptr) this.core.k.dealloc(this.ptr);
      this.ptr = 0;
      this.capacity = 0;
      this.ptr = allocate(this.core, want);
      this.capacity = want;
    }
    return this.ptr;
  }
}

/** Carves 16-byte aligned regions out of one scratch block. */
export class Layout {
  private size = 0;

  /** Reserves `bytes` and returns the offset of the region within the block. */
  add(bytes: number): number {
    const at = this.size;
    this.size += (bytes + 15) & ~15;
    return at;
  }

  get bytes(): number {
    return this.size;
  }
}

// Memory of a WasmArray that was never freed goes back to its module when the handle is collected:
// a model or optimiser dropped without dispose() (its arrays become unreachable with it) or a
// forgotten alloc(). The held value names the block without holding the handle. Finalisers run
// between tasks, never inside a synchronous call that still uses the block.
interface Block {
  readonly core: Core;
  readonly address: number;
}
const collected =
  typeof FinalizationRegistry === "function"
    ? new FinalizationRegistry<Block>(({ core, address }) => core.k.dealloc(address))
    : null;

/**
 * A typed array that lives in WebAssembly memory: the zero-copy path. Fill `array` in place and pass
 * the handle (or `array`) to any function; nothing is copied. `array` is re-derived after memory
 * growth, so read it again after calls rather than keeping an old view. Call `free()` when done, or
 * let the handle be collected: its memory is freed then (a view kept without its handle may then see
 * the memory reused).
 */
export class WasmArray<D extends Dtype = Dtype> {
  readonly dtype: D;
  readonly length: number;
  /** @internal */ readonly core: Core;
  private address: number;
  private view: ArrayOf<D> | undefined;

  /** @internal */
  constructor(core: Core, dtype: D, length: number) {
    if (dtype !== "float32" && dtype !== "float64") throw badDtype(dtype);
    if (!Number.isSafeInteger(length) || length < 0) throw badLength(length);
    this.core = core;
    this.dtype = dtype;
    this.length = length;
    this.address = allocate(core, length * bytesPer(dtype));
    collected?.register(this, { core, address: this.address }, this);
  }

  /** Byte offset of the first element in wasm memory. */
  get ptr(): number {
    if (!this.address) throw freedBuffer();
    return this.address;
  }

  /** A view of the elements, valid until the next call that may grow memory. */
  get array(): ArrayOf<D> {
    const ptr = this.ptr;
    const buffer = this.core.memoryBuffer;
    if (!this.view || this.view.buffer !== buffer) {
      this.view = (
        this.dtype === "float32"
          ? new Float32Array(buffer, ptr, this.length)
          : new Float64Array(buffer, ptr, this.length)
      ) as ArrayOf<D>;
    }
    return this.view;
  }

  get freed(): boolean {
    return this.address === 0;
  }

  /** Returns the memory to the module; the handle is unusable afterwards. Freeing twice is a no-op. */
  free(): void {
    if (this.address) {
      collected?.unregister(this);
      this.core.k.dealloc(this.address);
    }
    this.address = 0;
    this.view = undefined;
  }
}
