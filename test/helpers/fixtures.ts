// Reading the golden fixtures written by test/fixtures/generate_*.py (SciPy references).

import { readFileSync } from "node:fs";
import type { Klcore } from "../../dist/index.js";
import { fileURLToPath } from "node:url";

export interface FixtureCase {
  name: string;
  group: string;
  fn: string;
  dtype: "float32" | "float64";
  p: string;
  q?: string;
  options: Record<string, unknown>;
  expected: number | string;
  expectedShape?: "array";
  note?: string;
}

export function loadFixtures(file: string): FixtureCase[] {
  const path = fileURLToPath(new URL(`../fixtures/${file}`, import.meta.url));
  return (JSON.parse(readFileSync(path, "utf8")) as { cases: FixtureCase[] }).cases;
}

/** A base64 string of little-endian float64 bytes. */
export function decodeF64(b64: string): Float64Array {
  const bytes = Buffer.from(b64, "base64");
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new Float64Array(copy.buffer);
}

export function decodeScalar(v: number | string): number {
  if (typeof v === "number") return v;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  if (v === "NaN") return NaN;
  throw new Error(`not a scalar: ${v.slice(0, 20)}`);
}

/** The input arrays of a case in its precision. */
export function inputOf(c: FixtureCase, key: "p" | "q"): Float32Array | Float64Array {
  const a = decodeF64(c[key]!);
  return c.dtype === "float32" ? Float32Array.from(a) : a;
}

/**
 * Whether `got` matches `want` within `rel` relative error plus `abs`; infinities and NaN must
 * match exactly.
 */
export function close(got: number, want: number, rel: number, abs: number): boolean {
  if (Number.isNaN(want)) return Number.isNaN(got);
  if (!Number.isFinite(want)) return got === want;
  return Math.abs(got - want) <= rel * Math.abs(want) + abs;
}

/** The functions a case can name, on any instance (or the browser's module). */
export type DivergenceApi = Pick<
  Klcore,
  "kl" | "crossEntropy" | "entropy" | "jsDivergence" | "jsDistance" | "relEntr"
>;

/** Calls the function a case names. */
export function runCase(
  k: DivergenceApi,
  fn: string,
  p: Float32Array | Float64Array,
  q: Float32Array | Float64Array | undefined,
  options: Record<string, unknown>,
): number | Float32Array | Float64Array {
  switch (fn) {
    case "kl":
      return k.kl(p, q!, options);
    case "crossEntropy":
      return k.crossEntropy(p, q!, options);
    case "entropy":
      return k.entropy(p, options);
    case "jsDivergence":
      return k.jsDivergence(p, q!, options);
    case "jsDistance":
      return k.jsDistance(p, q!, options);
    case "relEntr":
      return k.relEntr(p, q!);
    default:
      throw new Error(`unknown fn ${fn}`);
  }
}

/** A seeded uniform [0, 1) generator (mulberry32), so every failure reproduces. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Largest |got - want| over the largest finite |want| (at least `floor`): an array's error relative
 * to its own scale. Infinity on a length, NaN or infinity mismatch.
 */
export function relativeToScale(got: ArrayLike<number>, want: ArrayLike<number>, floor: number): number {
  if (got.length !== want.length) return Infinity;
  let scale = floor;
  for (let i = 0; i < want.length; i++)
    if (Number.isFinite(want[i]!)) scale = Math.max(scale, Math.abs(want[i]!));
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (!Number.isFinite(w)) {
      if (!Object.is(g, w) && !(Number.isNaN(w) && Number.isNaN(g))) return Infinity;
      continue;
    }
    worst = Math.max(worst, Math.abs(g - w) / scale);
  }
  return worst;
}

/** A case of test/fixtures/losses.json (test/fixtures/generate_losses.py). */
export interface LossCase {
  name: string;
  group: string;
  fn: string;
  dtype: "float32" | "float64";
  targetKind?: "index" | "probs";
  inputs: Record<string, string>;
  options: Record<string, unknown>;
  expected: { loss?: number | string; lossShape?: "array" } & Record<string, number | string | undefined>;
}

/** The loss cases whose fn is one of `fns`. */
export function lossCases(...fns: string[]): LossCase[] {
  return (loadFixtures("losses.json") as unknown as LossCase[]).filter((c) => fns.includes(c.fn));
}

/** Input `key` of a loss case, in the case's precision. */
export function lossInput(c: LossCase, key: string): Float32Array | Float64Array {
  const a = decodeF64(c.inputs[key]!);
  return c.dtype === "float32" ? Float32Array.from(a) : a;
}

/**
 * A distribution p and q = p moved by about eps (relative) with sum q = sum p exactly: the recipe
 * of test/fixtures/fixturelib.py (near_pair), in the same float64 operations in the same order.
 */
export function nearPair(
  seed: number,
  n: number,
  eps: number,
  dtype: "float32" | "float64",
): [number[], number[]] {
  const draw = rng(seed);
  let p: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = 1 - draw();
    p.push(u * u * u);
  }
  let s = 0;
  for (const v of p) s += v;
  p = p.map((v) => v / s);
  if (dtype === "float32") p = p.map((v) => Math.fround(v));
  const q = p.slice();
  const bits = dtype === "float64" ? 52 : 23;
  for (let k = 0; k < n >> 1; k++) {
    const a = p[2 * k]!;
    const b = p[2 * k + 1]!;
    let h = eps * (2 * draw() - 1) * Math.min(a, b);
    // Two ulps of max(a, b): 2^(e - bits) with max(a, b) = m 2^e, m in [1/2, 1) (Python's frexp).
    const unit = 2 ** (exponentOf(Math.max(a, b)) + 1 - bits);
    h = Math.floor(h / unit + 0.5) * unit;
    q[2 * k] = a + h;
    q[2 * k + 1] = b - h;
  }
  return [p, dtype === "float32" ? q.map((v) => Math.fround(v)) : q];
}

/** floor(log2 |x|) of a normal float64, from its bits. */
function exponentOf(x: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return ((view.getUint16(0) >> 4) & 0x7ff) - 1023;
}
