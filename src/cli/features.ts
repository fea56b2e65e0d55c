// The rows of a CSV file as a saved model's input: its feature columns found by name (in any order;
// other columns are ignored) and checked; the library's classifier scales them as in training.

import type { Classifier } from "klcore";
import { findColumn, numericColumns, type Table } from "./csv.js";

/**
 * The model's feature columns of every row, as they are in the file (rows x features); bad cells
 * are noted in table.problems, for the caller to check.
 */
export function featureValues(table: Table, classifier: Classifier): Float64Array {
  const columns = classifier.features.map((name) => findColumn(table, name, "a feature of the model"));
  return numericColumns(table, columns);
}

/** The shortest decimal that reads back as the same float32. */
export function float32Text(v: number): string {
  for (let digits = 1; digits < 9; digits++) {
    const s = v.toPrecision(digits);
    if (Math.fround(Number(s)) === v) return String(Number(s));
  }
  return String(Number(v.toPrecision(9)));
}
