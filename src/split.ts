// Holding rows out: which rows of a dataset validate and which train. fit() draws its validation
// fraction here, and the command line its hold-out, so one seed means the same split everywhere.

import { mulberry32, shuffle } from "./random.js";
import { badHyperparameter, badOption } from "./errors.js";

/** How rows are held out: every class in proportion, a seeded sample, or the last rows. */
export type ValidationSplit = "stratified" | "random" | "last";

export interface HoldOutOptions {
  /** 'stratified' (needs `labels`), 'random' (default without labels) or 'last'. */
  method?: ValidationSplit;
  /** Seeds the draw; default 0. */
  seed?: number;
  /** Each row's class, an integer >= 0, for 'stratified' (any array of numbers: float labels too). */
  labels?: ArrayLike<number>;
}

/**
 * `held` of the rows 0..n-1 and the rest, each in ascending order. 'random': the first `held` of a
 * seeded Fisher-Yates permutation. 'stratified': class k gives floor(held n_k / n) rows, the rows
 * left over going to the classes with the largest remainders (the lower class among equals); each
 * class's rows are shuffled by one generator, class by class. 'last': the last `held` rows.
 */
export function holdOut(
  n: number,
  held: number,
  options: HoldOutOptions = {},
): { train: Int32Array; held: Int32Array } {
  if (!Number.isSafeInteger(n) || n < 0) throw badHyperparameter("n", "an integer >= 0", n);
  if (!Number.isSafeInteger(held) || held < 0 || held > n)
    throw badHyperparameter("held", `an integer in [0, ${n}]`, held);
  const { labels, seed = 0 } = options;
  const method = options.method ?? (labels ? "stratified" : "random");
  if (method !== "stratified" && method !== "random" && method !== "last") {
    throw badOption("method", "'stratified', 'random' or 'last'", method);
  }
  if (!Number.isSafeInteger(seed)) throw badHyperparameter("seed", "a safe integer", seed);
  const all = Int32Array.from({ length: n }, (_, i) => i);
  if (method === "last") return { train: all.slice(0, n - held), held: all.slice(n - held) };
  if (method === "random") {
    shuffle(all, mulberry32(seed));
    return { held: all.slice(0, held).sort(), train: all.slice(held).sort() };
  }
  if (!labels || labels.length !== n)
    throw badOption("labels", `${n} class indices for 'stratified'`, labels);
  const members: number[][] = [];
  for (let r = 0; r < n; r++) {
    const k = labels[r]!;
    // An integer check too: a fractional k would file the row under a key no class reads.
    if (!(Number.isInteger(k) && k >= 0)) throw badOption("labels", "class indices, integers >= 0", k);
    (members[k] ??= []).push(r);
  }
  for (let k = 0; k < members.length; k++) members[k] ??= [];
  const quota = members.map((m) => Math.floor((held * m.length) / n));
  const order = members
    .map((m, k) => ({ k, rest: (held * m.length) % n }))
    .sort((a, b) => b.rest - a.rest || a.k - b.k);
  for (let left = held - quota.reduce((a, b) => a + b, 0), i = 0; left > 0; i++, left--)
    quota[order[i]!.k]!++;
  const random = mulberry32(seed);
  const out: number[] = [];
  const kept: number[] = [];
  members.forEach((m, k) => {
    const rows = Int32Array.from(m);
    shuffle(rows, random);
    out.push(...rows.subarray(0, quota[k]));
    kept.push(...rows.subarray(quota[k]));
  });
  return { held: Int32Array.from(out).sort(), train: Int32Array.from(kept).sort() };
}
