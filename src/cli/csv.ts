// Reading a CSV file into a table of cells with the line each row starts on, and turning its
// columns into features and labels. csv-parse does the parsing (quotes, embedded newlines, a BOM,
// CRLF); this file checks the shape (a header, named and distinct columns, no ragged row) and the
// cells, and every error names the file, the line and the column.

import { readFileSync } from "node:fs";
import { parse, CsvError } from "csv-parse/sync";
import { decimal } from "./args.js";
import {
  cannotRead,
  csvSyntax,
  emptyFile,
  emptyLabel,
  missingColumn,
  noDataRows,
  notANumber,
  outOfRange,
  raggedRow,
  repeatedColumn,
  unnamedColumn,
} from "./errors.js";

export interface Table {
  /** The path as given, for messages. */
  file: string;
  header: string[];
  headerLine: number;
  rows: string[][];
  /** The line each row starts on (1-based). */
  lines: number[];
}

/** Why a file could not be read, in words. */
export function readFailure(e: unknown): string {
  const code = (e as { code?: string }).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EISDIR") return "it is a directory";
  if (code === "EACCES") return "permission denied";
  if (code === "ENOTDIR") return "a part of the path is a file, not a folder";
  return (e as Error).message;
}

function readBytes(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw cannotRead(file, readFailure(e));
  }
}

export const readText = (file: string): string => readBytes(file).toString("utf8");

interface Record {
  record: string[];
  /** info.bytes: the input consumed up to the end of the record, its line break included. */
  info: { bytes: number };
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * The line each record starts on. csv-parse's own count (info.lines) is where a record ends, and
 * counts a CRLF inside a quoted cell twice; this counts the line feeds before each record's first
 * byte, skipping the empty lines before it.
 */
function startLines(bytes: Buffer, records: readonly Record[]): number[] {
  const lines: number[] = [];
  let line = 1;
  let at = 0;
  for (const r of records) {
    while (at < bytes.length && (bytes[at] === LF || bytes[at] === CR)) if (bytes[at++] === LF) line++;
    lines.push(line);
    const end = Math.min(r.info.bytes, bytes.length);
    for (; at < end; at++) if (bytes[at] === LF) line++;
  }
  return lines;
}

export function readTable(file: string): Table {
  const bytes = readBytes(file);
  if (
    bytes
      .toString("utf8")
      .replace(/^\uFEFF/, "")
      .trim() === ""
  )
    throw emptyFile(file);
  let records: Record[];
  try {
    records = parse(bytes, {
      info: true,
      bom: true,
      trim: true,
      skip_empty_lines: true,
      // Ragged rows are reported here, naming the missing column.
      relax_column_count: true,
    }) as unknown as Record[];
  } catch (e) {
    if (e instanceof CsvError) {
      const line = (e as CsvError & { lines?: number }).lines;
      throw csvSyntax(file, line, e.message);
    }
    throw e;
  }
  const starts = startLines(bytes, records);
  const header = records[0]!.record;
  const headerLine = starts[0]!;
  const seen = new Map<string, number>();
  header.forEach((name, c) => {
    if (name === "") throw unnamedColumn(file, headerLine, c + 1);
    const before = seen.get(name);
    if (before !== undefined) throw repeatedColumn(file, headerLine, c + 1, name, before + 1);
    seen.set(name, c);
  });
  if (records.length < 2) throw noDataRows(file, headerLine);
  const rows: string[][] = [];
  const lines: number[] = [];
  for (let i = 1; i < records.length; i++) {
    const r = records[i]!;
    const line = starts[i]!;
    if (r.record.length !== header.length) {
      throw raggedRow(file, line, r.record.length, header, headerLine);
    }
    rows.push(r.record);
    lines.push(line);
  }
  return { file, header, headerLine, rows, lines };
}

/** The index of the column named `name`, or a DataError naming the header line. */
export function findColumn(table: Table, name: string, role: string): number {
  const c = table.header.indexOf(name);
  if (c < 0) throw missingColumn(table.file, table.headerLine, name, table.header, role);
  return c;
}

/** The cells of `columns` as numbers, rows x columns, row-major; every cell checked. */
export function numericColumns(table: Table, columns: readonly number[]): Float64Array {
  const { rows, header, lines, file } = table;
  const width = columns.length;
  const out = new Float64Array(rows.length * width);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    for (let k = 0; k < width; k++) {
      const c = columns[k]!;
      const cell = row[c]!;
      const v = decimal(cell);
      if (v === null) throw notANumber(file, lines[r]!, c + 1, header[c]!, cell);
      // Models compute in float32: a value it cannot hold is refused here, with its place.
      if (!Number.isFinite(Math.fround(v))) throw outOfRange(file, lines[r]!, c + 1, header[c]!, cell);
      out[r * width + k] = v;
    }
  }
  return out;
}

/** The label cells of a column, each non-empty. */
export function labelCells(table: Table, column: number): string[] {
  return table.rows.map((row, r) => {
    const cell = row[column]!;
    if (cell === "") throw emptyLabel(table.file, table.lines[r]!, column + 1, table.header[column]!);
    return cell;
  });
}

/**
 * The distinct labels in class order: numerically when every label is a number, else by code
 * unit order (the same on every machine, unlike a locale's collation).
 */
export function sortLabels(labels: Iterable<string>): string[] {
  const distinct = [...new Set(labels)];
  const numbers = distinct.map(decimal);
  if (numbers.every((n) => n !== null)) {
    const value = new Map(distinct.map((l, i) => [l, numbers[i]!]));
    return distinct.sort((a, b) => value.get(a)! - value.get(b)! || (a < b ? -1 : a > b ? 1 : 0));
  }
  return distinct.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A cell for a CSV line: quoted when it holds a comma, quote, line break or edge whitespace. */
export function csvCell(s: string): string {
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
