// Reading a CSV file into a table of cells with the line each row starts on, and turning its
// columns into features and labels. csv-parse does the parsing (quotes, embedded newlines, a BOM,
// CRLF, any separator); this file finds the separator when not given, skips lines before the data,
// recognises scikit-learn's first line, checks the shape (named and distinct columns, no ragged
// row) and the cells. Every error names the file, the line and the column; the bad lines of a file
// are reported together, in file order.

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
  skippedAll,
  unnamedColumn,
  badLines,
  type DataError,
} from "./errors.js";

/** How to read a CSV file: the command line's reading options. */
export interface ReadOptions {
  /** false: no header line, the columns are numbered 1, 2, ...; true: the first line names them. */
  header: boolean;
  /** The cell separator; undefined: detected (",", ";" or a tab). */
  delimiter: string | undefined;
  /** Lines to skip before the header or the first row; undefined: 0, and scikit-learn's first line is recognised. */
  skipRows: number | undefined;
}

export const DEFAULT_READING: ReadOptions = { header: true, delimiter: undefined, skipRows: undefined };

/** scikit-learn's first line: the row count, the feature count, then the class names. */
export interface Preamble {
  rows: number;
  features: number;
  classNames: string[];
}

export interface Table {
  /** The path as given, for messages. */
  file: string;
  /** The column names; for a file without a header, the column numbers "1", "2", .... */
  header: string[];
  /** Whether the header came from the file (false: the columns are numbered). */
  named: boolean;
  /** The header's line, or the first row's for a file without a header. */
  headerLine: number;
  rows: string[][];
  /** The line each row starts on (1-based). */
  lines: number[];
  /** The separator used. */
  delimiter: string;
  /** scikit-learn's first line, when the file begins with one (it is not a row). */
  preamble: Preamble | null;
  /** Every bad line found so far, reported together by problems.check(). */
  problems: Problems;
}

/** The problems of a table's lines, one per line (its leftmost), reported in file order. */
export class Problems {
  private readonly byRow = new Map<number, { line: number; column: number; message: string }>();

  constructor(private readonly file: string) {}

  /** Notes a problem at a row; the leftmost of a row is kept. */
  add(row: number, line: number, column: number, error: DataError): void {
    const had = this.byRow.get(row);
    if (!had || column < had.column) this.byRow.set(row, { line, column, message: error.message });
  }

  /** Throws one DataError listing the problems (at most REPORTED of them), or returns. */
  check(): void {
    if (this.byRow.size === 0) return;
    const all = [...this.byRow.values()].sort((a, b) => a.line - b.line || a.column - b.column);
    throw badLines(
      this.file,
      all.slice(0, REPORTED).map((p) => p.message),
      all.length,
    );
  }
}

/** Bad lines listed in one report; the rest are counted. */
export const REPORTED = 20;

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

const CANDIDATES = [",", ";", "\t"];

/** How often `d` occurs in `line` outside double quotes. */
function countOutsideQuotes(line: string, d: string): number {
  let n = 0;
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (ch === d && !quoted) n++;
  }
  return n;
}

/**
 * The separator of a file's first lines: the candidate that occurs the same number of times, at
 * least once, on each of the first 20 non-empty lines (most occurrences first), else the one most
 * frequent on the first line, else ",". So "a;b" over "1,5;2,5" (decimal commas) is ";": the
 * commas are not on the header line.
 */
export function detectDelimiter(text: string): string {
  const lines = text
    .split(/\r?\n/)
    .filter((l) => l.trim() !== "")
    .slice(0, 20);
  if (lines.length === 0) return ",";
  let best = "";
  let most = 0;
  for (const d of CANDIDATES) {
    const counts = lines.map((l) => countOutsideQuotes(l, d));
    if (counts[0]! > 0 && counts.every((c) => c === counts[0]) && counts[0]! > most) {
      [best, most] = [d, counts[0]!];
    }
  }
  if (best !== "") return best;
  for (const d of CANDIDATES) {
    const c = countOutsideQuotes(lines[0]!, d);
    if (c > most) [best, most] = [d, c];
  }
  return best === "" ? "," : best;
}

const POSITIVE = /^\d+$/;

/**
 * scikit-learn's first line (iris.csv: "150,4,setosa,versicolor,virginica"): the count of the
 * records after it, the count of the feature columns (each record has one more, the class), then
 * the class names, none a number. Both counts must match the rest of the file.
 */
function preambleOf(first: readonly string[], rest: readonly Record[]): Preamble | null {
  if (first.length < 3 || !POSITIVE.test(first[0]!) || !POSITIVE.test(first[1]!)) return null;
  const rows = Number(first[0]);
  const features = Number(first[1]);
  const classNames = first.slice(2);
  if (rows !== rest.length || rows === 0) return null;
  if (rest[0]!.record.length !== features + 1) return null;
  if (classNames.some((n) => n === "" || decimal(n) !== null)) return null;
  return { rows, features, classNames };
}

/** The byte offset after `n` line feeds, or -1 when the file has fewer lines. */
function afterLines(bytes: Buffer, n: number): number {
  let at = 0;
  for (let i = 0; i < n; i++) {
    const lf = bytes.indexOf(LF, at);
    if (lf < 0) return -1;
    at = lf + 1;
  }
  return at;
}

export function readTable(file: string, options: ReadOptions = DEFAULT_READING): Table {
  const whole = readBytes(file);
  if (
    whole
      .toString("utf8")
      .replace(/^\uFEFF/, "")
      .trim() === ""
  )
    throw emptyFile(file);
  const skip = options.skipRows ?? 0;
  const from = afterLines(whole, skip);
  if (from < 0 || whole.subarray(from).toString("utf8").trim() === "") throw skippedAll(file, skip);
  const bytes = whole.subarray(from);
  const delimiter = options.delimiter ?? detectDelimiter(bytes.toString("utf8").replace(/^\uFEFF/, ""));
  let records: Record[];
  try {
    records = parse(bytes, {
      info: true,
      bom: true,
      trim: true,
      delimiter,
      skip_empty_lines: true,
      // Ragged rows are reported here, naming the missing column.
      relax_column_count: true,
    }) as unknown as Record[];
  } catch (e) {
    if (e instanceof CsvError) {
      const line = (e as CsvError & { lines?: number }).lines;
      throw csvSyntax(file, line === undefined ? undefined : line + skip, e.message);
    }
    throw e;
  }
  let starts = startLines(bytes, records).map((l) => l + skip);
  // scikit-learn's first line is recognised unless the lines to skip are given.
  const preamble = options.skipRows === undefined ? preambleOf(records[0]!.record, records.slice(1)) : null;
  if (preamble) {
    records = records.slice(1);
    starts = starts.slice(1);
  }
  const named = options.header && !preamble;
  const problems = new Problems(file);
  let header: string[];
  let first: number;
  if (named) {
    header = records[0]!.record;
    first = 1;
    const seen = new Map<string, number>();
    header.forEach((name, c) => {
      if (name === "") throw unnamedColumn(file, starts[0]!, c + 1);
      const before = seen.get(name);
      if (before !== undefined) throw repeatedColumn(file, starts[0]!, c + 1, name, before + 1);
      seen.set(name, c);
    });
    if (records.length < 2) throw noDataRows(file, starts[0]!);
  } else {
    header = records[0]!.record.map((_, c) => String(c + 1));
    first = 0;
  }
  const headerLine = starts[0]!;
  const rows: string[][] = [];
  const lines: number[] = [];
  for (let i = first; i < records.length; i++) {
    const r = records[i]!;
    const line = starts[i]!;
    if (r.record.length !== header.length) {
      problems.add(rows.length, line, 0, raggedRow(file, line, r.record.length, header, headerLine, named));
    }
    rows.push(r.record);
    lines.push(line);
  }
  return { file, header, named, headerLine, rows, lines, delimiter, preamble, problems };
}

/**
 * The index of a column: the one named `name`, else, when `name` is a column number (1-based, as
 * messages count them), that column; or a DataError naming the header line.
 */
export function findColumn(table: Table, name: string, role: string): number {
  const c = table.header.indexOf(name);
  if (c >= 0) return c;
  if (POSITIVE.test(name) && Number(name) >= 1 && Number(name) <= table.header.length)
    return Number(name) - 1;
  throw missingColumn(
    table.file,
    table.headerLine,
    name,
    table.named ? table.header : null,
    role,
    table.header.length,
  );
}

/** A column's name for messages: undefined when the columns are only numbered. */
const nameOf = (table: Table, c: number): string | undefined => (table.named ? table.header[c] : undefined);

const DECIMAL_COMMA = /^[+-]?(\d+,\d*|,\d+)([eE][+-]?\d+)?$/;

/** "1,5" -> 1.5: a decimal comma, as spreadsheets in many locales write numbers (not with a "," separator). */
const decimalComma = (cell: string): number | null =>
  DECIMAL_COMMA.test(cell) ? Number(cell.replace(",", ".")) : null;

/**
 * The cells of `columns` as numbers, rows x columns, row-major; every cell checked, a bad one
 * noted in table.problems (reported by table.problems.check()). In a file whose separator is not
 * a comma, a decimal comma is read too.
 */
export function numericColumns(table: Table, columns: readonly number[]): Float64Array {
  const { rows, header, lines, file, problems } = table;
  const width = columns.length;
  const out = new Float64Array(rows.length * width);
  const comma = table.delimiter !== ",";
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    if (row.length !== header.length) continue;
    for (let k = 0; k < width; k++) {
      const c = columns[k]!;
      const cell = row[c]!;
      const v = decimal(cell) ?? (comma ? decimalComma(cell) : null);
      if (v === null) {
        problems.add(r, lines[r]!, c + 1, notANumber(file, lines[r]!, c + 1, nameOf(table, c), cell));
        // Models compute in float32: a value it cannot hold is refused here, with its place.
      } else if (!Number.isFinite(Math.fround(v))) {
        problems.add(r, lines[r]!, c + 1, outOfRange(file, lines[r]!, c + 1, nameOf(table, c), cell));
      } else out[r * width + k] = v;
    }
  }
  return out;
}

/**
 * The label cells of a column, each non-empty (an empty one is noted in table.problems). For a
 * file that begins with scikit-learn's first line, the last column's class numbers 0, 1, ... are
 * the class names that line gives.
 */
export function labelCells(table: Table, column: number): string[] {
  const cells = table.rows.map((row, r) => {
    const cell = row[column] ?? "";
    if (cell === "" && row.length === table.header.length) {
      table.problems.add(
        r,
        table.lines[r]!,
        column + 1,
        emptyLabel(table.file, table.lines[r]!, column + 1, nameOf(table, column)),
      );
    }
    return cell;
  });
  const names = table.preamble?.classNames;
  if (names && column === table.header.length - 1) {
    const index = (cell: string): number => (POSITIVE.test(cell) ? Number(cell) : -1);
    if (cells.every((cell) => index(cell) >= 0 && index(cell) < names.length))
      return cells.map((cell) => names[index(cell)] ?? cell);
  }
  return cells;
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
