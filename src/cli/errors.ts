// Every message the command line prints on failure, in one place. Two kinds, told apart by the
// exit code: a UsageError (2) is a bad command line, fixed by changing the arguments; a DataError (1)
// is a problem with a file or with training, and names the file, and where it applies the line and
// column, so the cell can be found in an editor.

export class UsageError extends Error {
  readonly exitCode = 2;
  /** The command whose --help to point at, if any. */
  constructor(
    message: string,
    readonly command: string | null = null,
  ) {
    super(message);
  }
}

export class DataError extends Error {
  readonly exitCode = 1;
}

const quote = (s: string): string => JSON.stringify(s);

/** "FILE:LINE: column C ("name")": where a cell is. */
const cellAt = (file: string, line: number, column: number, name: string | undefined): string =>
  `${file}:${line}: column ${column}${name === undefined ? "" : ` (${quote(name)})`}`;

const list = (names: readonly string[], most = 12): string =>
  names.length <= most
    ? names.join(", ")
    : `${names.slice(0, most).join(", ")}, ... (${names.length - most} more)`;

// ---- usage: exit code 2 ----

export const unknownCommand = (name: string): UsageError =>
  new UsageError(
    `unknown command ${quote(name)}; the commands are train, predict, evaluate, compare-losses, compare-vi, bench`,
  );

export const noCommand = (): UsageError => new UsageError("no command given");

export const unknownOption = (command: string, option: string, meant: string | null = null): UsageError =>
  new UsageError(
    `unknown option ${option} for 'klcore ${command}'${meant === null ? "" : `; did you mean ${meant}?`}`,
    command,
  );

export const optionNeedsValue = (command: string, option: string): UsageError =>
  new UsageError(`option ${option} needs a value (one starting with "-" is written ${option}=-1)`, command);

export const optionTakesNoValue = (command: string, option: string): UsageError =>
  new UsageError(`option ${option} takes no value`, command);

export const badArguments = (command: string, detail: string): UsageError => new UsageError(detail, command);

export const missingArgument = (command: string, what: string): UsageError =>
  new UsageError(`missing ${what}`, command);

export const extraArguments = (command: string, extra: readonly string[]): UsageError =>
  new UsageError(`unexpected argument${extra.length > 1 ? "s" : ""} ${extra.map(quote).join(" ")}`, command);

export const badOptionValue = (command: string, option: string, expected: string, got: string): UsageError =>
  new UsageError(`${option} must be ${expected}; got ${quote(got)}`, command);

export const optionNotApplicable = (command: string, option: string, reason: string): UsageError =>
  new UsageError(`${option} ${reason}`, command);

export const badHistoryFile = (command: string, file: string): UsageError =>
  new UsageError(`--history ${quote(file)}: the file must end in .csv or .json (its format)`, command);

export const outputDirMissing = (command: string, option: string, dir: string): UsageError =>
  new UsageError(`${option}: the directory ${quote(dir)} does not exist`, command);

// ---- files and data: exit code 1 ----

export const cannotRead = (file: string, reason: string): DataError =>
  new DataError(`cannot read ${file}: ${reason}`);

export const cannotWrite = (file: string, reason: string): DataError =>
  new DataError(`cannot write ${file}: ${reason}`);

export const emptyFile = (file: string): DataError =>
  new DataError(`${file}: the file is empty; expected a header line naming the columns, then data rows`);

export const noDataRows = (file: string, headerLine: number): DataError =>
  new DataError(`${file}: no data rows after the header (line ${headerLine})`);

export const csvSyntax = (file: string, line: number | undefined, detail: string): DataError =>
  new DataError(`${file}${line === undefined ? "" : `:${line}`}: not valid CSV: ${detail}`);

export const unnamedColumn = (file: string, line: number, column: number): DataError =>
  new DataError(`${cellAt(file, line, column, undefined)}: the header names no column here`);

export const repeatedColumn = (
  file: string,
  line: number,
  column: number,
  name: string,
  first: number,
): DataError => new DataError(`${cellAt(file, line, column, name)}: the header repeats column ${first}`);

export const raggedRow = (
  file: string,
  line: number,
  cells: number,
  header: readonly string[],
  headerLine: number,
  named: boolean,
): DataError => {
  const columns = header.length;
  const where = named
    ? cells < columns
      ? `column ${cells + 1} (${quote(header[cells]!)}) is missing`
      : `column ${columns + 1} has no name in the header`
    : cells < columns
      ? `column ${cells + 1} is missing`
      : `column ${columns + 1} is extra`;
  return new DataError(
    `${file}:${line}: ${cells} cell${cells === 1 ? "" : "s"}, but ` +
      `${named ? "the header" : "the first row"} (line ${headerLine}) has ` +
      `${columns} ${named ? "column" : "cell"}${columns === 1 ? "" : "s"}: ${where}`,
  );
};

export const badLines = (file: string, messages: readonly string[], count: number): DataError =>
  new DataError(
    count === 1
      ? messages[0]!
      : `${file}: ${count} bad lines${count > messages.length ? ` (the first ${messages.length} below)` : ""}:\n` +
          messages.map((m) => `  ${m}`).join("\n") +
          (count > messages.length ? `\n  ... and ${count - messages.length} more` : ""),
  );

export const skippedAll = (file: string, skip: number): DataError =>
  new DataError(`${file}: --skip-rows ${skip} skips every line of the file`);

export const missingColumn = (
  file: string,
  headerLine: number,
  name: string,
  header: readonly string[] | null,
  role: string,
  width = header?.length ?? 0,
): DataError =>
  new DataError(
    header
      ? `${file}:${headerLine}: no column ${quote(name)} (${role}) in the header; the columns are ` +
          `${list(header)} (or their numbers, 1 to ${header.length})`
      : `${file}:${headerLine}: no column ${quote(name)} (${role}): the file has no header (--no-header), ` +
          `so its ${width} columns are named by their numbers, 1 to ${width}`,
  );

export const notANumber = (
  file: string,
  line: number,
  column: number,
  name: string | undefined,
  cell: string,
): DataError =>
  new DataError(
    `${cellAt(file, line, column, name)}: ${cell === "" ? "an empty cell" : quote(cell)} is not a number ` +
      "(every column but the label must be numeric)",
  );

export const outOfRange = (
  file: string,
  line: number,
  column: number,
  name: string | undefined,
  cell: string,
): DataError =>
  new DataError(`${cellAt(file, line, column, name)}: ${quote(cell)} is beyond the float32 range`);

export const emptyLabel = (file: string, line: number, column: number, name: string | undefined): DataError =>
  new DataError(`${cellAt(file, line, column, name)}: the label is empty`);

export const unseenLabel = (
  file: string,
  line: number,
  column: number,
  name: string | undefined,
  label: string,
  known: readonly string[],
): DataError =>
  new DataError(
    `${cellAt(file, line, column, name)}: the label ${quote(label)} was never seen in training ` +
      `(the model knows ${list(known.map(quote))})`,
  );

export const oneLabel = (file: string, name: string, label: string): DataError =>
  new DataError(
    `${file}: every row has the label ${quote(label)} in column ${quote(name)}; a classifier needs at ` +
      "least two labels",
  );

export const noFeatures = (file: string, label: string): DataError =>
  new DataError(`${file}: no feature columns: the file holds only the label column ${quote(label)}`);

export const splitImpossible = (file: string, rows: number, fraction: number): DataError =>
  new DataError(
    `${file}: --validation ${fraction} of ${rows} row${rows === 1 ? "" : "s"} leaves ` +
      `${Math.round(rows * fraction) < 1 ? "no row to hold out" : "no row to train on"}; ` +
      "use --validation 0 to train on every row",
  );

export const notModelFile = (file: string, detail: string): DataError =>
  new DataError(`${file}: not a model written by 'klcore train': ${detail}`);

export const trainingDiverged = (epoch: number, batch: number, loss: number, reason: string): DataError =>
  new DataError(
    `training diverged at epoch ${epoch}, batch ${batch} (${reason}, loss ${loss}); no model written. ` +
      "A smaller --lr usually helps",
  );

export const benchNeedsCheckout = (root: string): DataError =>
  new DataError(
    `'klcore bench' runs the benchmark suite of a source checkout; ${root} has no bench/ folder or ` +
      "no bench script in package.json",
  );

export const digitsMissing = (file: string): DataError =>
  new DataError(`cannot read the digits data ${file}; pass its path with --digits FILE`);
