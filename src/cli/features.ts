// The rows of a CSV file as a saved model's input: its feature columns found by name (in any order;
// other columns are ignored), checked, and scaled as in training.

import { findColumn, numericColumns, type Table } from "./csv.js";
import { allRows, scaledRows, type ClassifierFile } from "./modelfile.js";

export function modelInput(table: Table, file: ClassifierFile): Float32Array {
  const columns = file.features.map((name) => findColumn(table, name, "a feature of the model"));
  const values = numericColumns(table, columns);
  return scaledRows(values, columns.length, allRows(table.rows.length), file.scaling);
}

/** The shortest decimal that reads back as the same float32. */
export function float32Text(v: number): string {
  for (let digits = 1; digits < 9; digits++) {
    const s = v.toPrecision(digits);
    if (Math.fround(Number(s)) === v) return String(Number(s));
  }
  return String(Number(v.toPrecision(9)));
}
