// What a typed array is, by its tag, and which ones hold class indices. No imports: the messages
// in errors.ts name the same list.

// The tag, not instanceof, so typed arrays from another realm (iframe, vm context) are accepted.
export const tagOf = (x: unknown): string | undefined =>
  ArrayBuffer.isView(x) ? (x as unknown as { [Symbol.toStringTag]: string })[Symbol.toStringTag] : undefined;

/** Typed arrays accepted as class indices, everywhere labels are taken (losses, fit, models). */
export type IndexArray = Int32Array | Int16Array | Int8Array | Uint32Array | Uint16Array | Uint8Array;
/** Class indices, one per row. */
export type ClassIndices = IndexArray | readonly number[];

export const INDEX_ARRAY_TAGS: readonly string[] = [
  "Int32Array",
  "Int16Array",
  "Int8Array",
  "Uint32Array",
  "Uint16Array",
  "Uint8Array",
];

export const isIndexArray = (x: unknown): x is IndexArray => INDEX_ARRAY_TAGS.includes(tagOf(x) ?? "");

/**
 * Float arrays read as class indices when they hold one value per row (TF.js keeps labels so):
 * with more than one class, rows x classes probabilities cannot have that length.
 */
export const FLOAT_INDEX_TAGS: readonly string[] = ["Float32Array", "Float64Array"];

export const isFloatArray = (x: unknown): x is Float32Array | Float64Array =>
  FLOAT_INDEX_TAGS.includes(tagOf(x) ?? "");

/**
 * The first element of `a` that is neither an integer class in [0, classes) nor `ignore`, or -1
 * when every one is: a float array is read as class indices only then.
 */
export function firstNonIndex(a: ArrayLike<number>, classes: number, ignore?: number): number {
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (v === ignore) continue;
    if (!(Number.isInteger(v) && v >= 0 && v < classes)) return i;
  }
  return -1;
}
