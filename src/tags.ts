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
