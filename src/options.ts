// Option parsing shared by every function family: unknown options are refused (a typo is an error,
// not a silent default), and every option is type-checked with a message naming it.

import { badClasses, badOption, badReduction, unknownOption } from "./errors.js";

export type Reduction = "none" | "sum" | "mean" | "batchmean";

const REDUCTIONS: readonly string[] = ["none", "sum", "mean", "batchmean"];

export type Options = Record<string, unknown>;

/** The options object, checked against the names `fn` knows. */
export function optionsOf(fn: string, options: unknown, known: readonly string[]): Options {
  if (options === undefined || options === null) return {};
  if (typeof options !== "object" || Array.isArray(options)) throw badOption("options", "an object", options);
  const o = options as Options;
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) throw unknownOption(fn, key, known, closestName(key, known));
  }
  return o;
}

/** "learning_rate", "Learning-Rate" -> "learningrate": a name with its case and separators dropped. */
const bare = (name: string): string => name.toLowerCase().replace(/[-_ ]/g, "");

/** "learningRate", "learning-rate", "learning_rate" -> "lr": the first letter of each word. */
const initials = (name: string): string =>
  name
    .split(/[-_ ]+|(?=[A-Z])/)
    .map((w) => w.charAt(0).toLowerCase())
    .join("");

/** Edit distance: insertions, deletions, substitutions and swaps of neighbours (jsno, json). */
function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        next[j] = Math.min(next[j]!, before[j - 2]! + 1);
    }
    [before, row] = [row, next];
  }
  return row[b.length]!;
}

/**
 * The known name a mistyped `name` most likely meant, or null: the same name in another case or
 * with other separators (batch_size, batchsize), an abbreviation by initials either way (lr for
 * learningRate, learning-rate for lr), or the nearest name within a third of its length in edits
 * (epoch, epcohs for epochs).
 */
export function closestName(name: string, known: readonly string[]): string | null {
  const b = bare(name);
  const same = known.find((k) => bare(k) === b);
  if (same !== undefined) return same;
  const abbreviation = known.find(
    (k) => (b.length > 1 && initials(k) === b) || (bare(k).length > 1 && initials(name) === bare(k)),
  );
  if (abbreviation !== undefined) return abbreviation;
  let best: string | null = null;
  let least = Math.max(1, Math.floor(b.length / 3)) + 1;
  for (const k of known) {
    const d = editDistance(b, bare(k));
    if (d < least) [best, least] = [k, d];
  }
  return best;
}

// The checkers take an option's value, read by name at the call site (o.validate, not o[key]):
// reads by a varying key go megamorphic in V8 and cost microseconds per call on option objects
// built with a spread ({ ...base, grad }).

/** A boolean option, `fallback` when absent. */
export function flag(name: string, v: unknown, fallback = false): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== "boolean") throw badOption(name, "a boolean", v);
  return v;
}

/** A number option (type only; ranges are checked by the caller), undefined when absent. */
export function numberOption(name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number") throw badOption(name, "a number", v);
  return v;
}

/** The reduction, 'mean' when absent ('batchmean' is PyTorch's name for the same). */
export function reductionOf(r: unknown): Reduction {
  if (r === undefined) return "mean";
  if (typeof r !== "string" || !REDUCTIONS.includes(r)) throw badReduction(r);
  return r as Reduction;
}

/** The row length for `length` elements: the option's value, or `fallback` (the whole length). */
export function rowLength(name: string, v: unknown, length: number, fallback = length): number {
  const c = numberOption(name, v);
  const cols = c ?? fallback;
  if (!Number.isSafeInteger(cols) || cols < 1 || length % cols !== 0) throw badClasses(c, length, name);
  return cols;
}

/** The `grad` option: false when absent, true, or a caller's output buffer (checked by the caller). */
export function gradOption(o: Options): boolean | Float32Array | Float64Array {
  const g = o.grad;
  if (g === undefined || g === false) return false;
  if (g === true) return true;
  const tag = ArrayBuffer.isView(g)
    ? (g as unknown as { [Symbol.toStringTag]: string })[Symbol.toStringTag]
    : "";
  if (tag === "Float32Array" || tag === "Float64Array") return g as Float32Array | Float64Array;
  throw badOption("grad", "true, false, or a Float32Array/Float64Array output buffer", g);
}

/** What every loss returns: the reduced loss (per row with reduction 'none') and, when asked, its gradient. */
export interface LossResult<L extends number | Float64Array = number, G = Float32Array | Float64Array> {
  loss: L;
  grad?: G;
}
