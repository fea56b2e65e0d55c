// klcore train DATA.csv [--label COLUMN] [options]: reads and checks the whole file, holds out a
// seeded random fraction of each class, standardises the features on the training rows with the
// library's standardiser, trains with fit() and writes the model file (and --history) only when
// training has succeeded.

import { existsSync, statSync } from "node:fs";
import { dirname, extname } from "node:path";
import { fit, mlp, softmaxRegression, type EpochStats, type LossName, type Model } from "klcore";
import {
  choiceOption,
  decimal,
  integerOption,
  numberOption,
  parseCommand,
  READING_OPTIONS,
  readingOptions,
  stringOption,
  widthsOption,
  type OptionSpec,
} from "./args.js";
import {
  csvCell,
  findColumn,
  labelCells,
  numericColumns,
  readTable,
  sortLabels,
  type ReadOptions,
} from "./csv.js";
import {
  badHistoryFile,
  noFeatures,
  oneLabel,
  optionNotApplicable,
  outputDirMissing,
  splitImpossible,
  trainingDiverged,
} from "./errors.js";
import {
  allRows,
  fitScaling,
  scaledRows,
  writeAtomically,
  type ClassifierFile,
  type Metrics,
} from "./modelfile.js";
import { fixed, pct, ProgressBar, seconds } from "./progress.js";
import { stratifiedSplit } from "./random.js";

const OPTIONS: OptionSpec = {
  label: { type: "string" },
  ...READING_OPTIONS,
  model: { type: "string" },
  hidden: { type: "string" },
  activation: { type: "string" },
  loss: { type: "string" },
  optimizer: { type: "string" },
  lr: { type: "string" },
  epochs: { type: "string" },
  "batch-size": { type: "string" },
  seed: { type: "string" },
  validation: { type: "string" },
  scale: { type: "string" },
  out: { type: "string" },
  history: { type: "string" },
  quiet: { type: "boolean" },
};

// Without --epochs, enough epochs for this many optimisation steps (and at least MIN_EPOCHS): a
// small table has few batches per epoch, and 20 epochs of iris's 4 batches left it at 63% held out.
// At Adam's default rate, 2,000 steps train iris, wine and breast cancer to their usual held-out
// accuracy (test/cli.test.ts); the digits' 45 batches per epoch get 45 epochs.
export const MIN_STEPS = 2000;
export const MIN_EPOCHS = 20;

const LOSSES: readonly LossName[] = ["kl", "cross-entropy", "mse", "l1", "js"];
const OPTIMIZERS = ["adam", "sgd", "rmsprop", "adagrad"] as const;

interface TrainSettings {
  data: string;
  /** undefined: the last column. */
  label: string | undefined;
  reading: ReadOptions;
  model: "softmax" | "mlp";
  hidden: number[];
  activation: "relu" | "tanh";
  loss: LossName;
  optimizer: (typeof OPTIMIZERS)[number];
  lr: number | undefined;
  /** undefined: enough for MIN_STEPS steps. */
  epochs: number | undefined;
  batchSize: number;
  seed: number;
  validation: number;
  scale: "standard" | "none";
  out: string;
  history: string | undefined;
  quiet: boolean;
}

function settingsOf(args: readonly string[]): TrainSettings {
  const c = "train";
  const { values: v, positionals } = parseCommand(c, args, OPTIONS, { names: ["DATA.csv"], required: 1 });
  const label = stringOption(v.label);
  const model = choiceOption(c, "--model", v.model, "mlp", ["softmax", "mlp"] as const);
  if (model === "softmax" && (v.hidden !== undefined || v.activation !== undefined)) {
    throw optionNotApplicable(
      c,
      v.hidden !== undefined ? "--hidden" : "--activation",
      "applies to --model mlp only",
    );
  }
  const out = stringOption(v.out) ?? "model.json";
  const dir = dirname(out);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw outputDirMissing(c, "--out", dir);
  const history = stringOption(v.history);
  if (history !== undefined) {
    if (![".csv", ".json"].includes(extname(history).toLowerCase())) throw badHistoryFile(c, history);
    const at = dirname(history);
    if (!existsSync(at) || !statSync(at).isDirectory()) throw outputDirMissing(c, "--history", at);
  }
  return {
    data: positionals[0]!,
    label,
    reading: readingOptions(c, v),
    model,
    hidden: widthsOption(c, "--hidden", v.hidden, [64]),
    activation: choiceOption(c, "--activation", v.activation, "relu", ["relu", "tanh"] as const),
    loss: choiceOption(c, "--loss", v.loss, "kl", LOSSES),
    optimizer: choiceOption(c, "--optimizer", v.optimizer, "adam", OPTIMIZERS),
    lr: numberOption(c, "--lr", v.lr, undefined, { expected: "a number > 0", ok: (x) => x > 0 }),
    epochs: v.epochs === undefined ? undefined : integerOption(c, "--epochs", v.epochs, MIN_EPOCHS, 1),
    batchSize: integerOption(c, "--batch-size", v["batch-size"], 32, 1),
    seed: integerOption(c, "--seed", v.seed, 0, 0),
    validation: numberOption(c, "--validation", v.validation, 0.2, {
      expected: "a fraction >= 0 and < 1",
      ok: (x) => x >= 0 && x < 1,
    })!,
    scale: choiceOption(c, "--scale", v.scale, "standard", ["standard", "none"] as const),
    out,
    history,
    quiet: v.quiet === true,
  };
}

const describe = (m: Model): string =>
  m.kind === "mlp"
    ? `MLP ${[m.inputs, ...m.hidden, m.classes].join("-")} (${m.activation})`
    : `softmax regression ${m.inputs}-${m.classes}`;

const metricsLine = (m: Metrics): string =>
  `loss ${fixed(m.loss)}  KL ${fixed(m.kl)}  accuracy ${pct(m.accuracy)} (${Math.round(m.accuracy * m.rows)}/${m.rows})`;

/**
 * Whether numeric labels look like a quantity rather than classes: many distinct values for the
 * rows (at least 10, and one per 5 rows or more), as a measurement or a price would have.
 */
export function looksContinuous(labels: readonly string[], rows: number): boolean {
  return labels.length >= 10 && labels.length * 5 >= rows && labels.every((l) => decimal(l) !== null);
}

/** fit()'s per-epoch records as CSV (a column per field, as named in EpochStats) or JSON. */
function historyText(file: string, history: readonly EpochStats[]): string {
  if (extname(file).toLowerCase() === ".json") return `${JSON.stringify(history, null, 1)}\n`;
  const fields = [
    "epoch",
    "loss",
    "kl",
    "accuracy",
    "valLoss",
    "valKl",
    "valAccuracy",
    "time",
    "batches",
    "complete",
  ] as const;
  const lines = history.map((e) => fields.map((f) => csvCell(e[f] === null ? "" : String(e[f]))).join(","));
  return `${[fields.join(","), ...lines].join("\n")}\n`;
}

export async function train(args: readonly string[]): Promise<void> {
  const s = settingsOf(args);
  const log = (line: string): void => {
    if (!s.quiet) console.log(line);
  };

  // ---- the data, checked whole before anything is trained ----
  const table = readTable(s.data, s.reading);
  const labelColumn = s.label === undefined ? table.header.length - 1 : findColumn(table, s.label, "--label");
  const labelName = table.header[labelColumn]!;
  const featureColumns = table.header.map((_, c) => c).filter((c) => c !== labelColumn);
  if (featureColumns.length === 0) throw noFeatures(s.data, labelName);
  const cells = labelCells(table, labelColumn);
  const values = numericColumns(table, featureColumns);
  table.problems.check();
  const labels = sortLabels(cells);
  if (labels.length < 2) throw oneLabel(s.data, labelName, labels[0]!);
  const classOf = new Map(labels.map((l, k) => [l, k]));
  const y = Int32Array.from(cells, (l) => classOf.get(l)!);
  const rows = table.rows.length;
  const inputs = featureColumns.length;
  const classes = labels.length;
  const column = table.named ? JSON.stringify(labelName) : labelName;
  if (looksContinuous(labels, rows)) {
    process.stderr.write(
      `klcore: warning: the label column ${column} holds ${labels.length} distinct numbers in ${rows} ` +
        "rows: it looks continuous, and every distinct value becomes a class. " +
        `${s.label === undefined ? "It is the last column, the default; " : ""}` +
        "if the classes are in another column, name it with --label\n",
    );
  }

  const heldCount = s.validation > 0 ? Math.round(rows * s.validation) : 0;
  if (s.validation > 0 && (heldCount < 1 || heldCount >= rows))
    throw splitImpossible(s.data, rows, s.validation);
  const split =
    heldCount > 0
      ? stratifiedSplit(y, classes, heldCount, s.seed)
      : { train: allRows(rows), held: allRows(0) };
  const scaling = s.scale === "standard" ? fitScaling(values, inputs, split.train) : null;
  const trainX = scaledRows(values, inputs, split.train, scaling);
  const trainY = Int32Array.from(split.train, (r) => y[r]!);
  const heldX = scaledRows(values, inputs, split.held, scaling);
  const heldY = Int32Array.from(split.held, (r) => y[r]!);
  const batches = Math.ceil(split.train.length / s.batchSize);
  const epochs = s.epochs ?? Math.max(MIN_EPOCHS, Math.ceil(MIN_STEPS / batches));

  // ---- the model and training ----
  const model =
    s.model === "mlp"
      ? mlp({ inputs, hidden: s.hidden, classes, activation: s.activation, seed: s.seed })
      : softmaxRegression({ inputs, classes, seed: s.seed });
  const name = describe(model);
  const p = table.preamble;
  if (p) {
    log(
      `klcore train: ${s.data}:1 is scikit-learn's first line (${p.rows} rows, ${p.features} features, ` +
        `classes ${p.classNames.join(", ")}), not a header: the columns are numbered 1 to ${table.header.length}`,
    );
  }
  log(
    `klcore train: ${s.data}, ${rows} rows, ${inputs} features, ${classes} classes (column ${column}` +
      `${s.label === undefined ? ", the last" : ""}); ` +
      `${split.train.length} training rows, ${split.held.length} held out` +
      (heldCount > 0 ? ` (a seeded random ${pct(s.validation)} of each class)` : ""),
  );
  log(
    `${name}, ${model.parameterCount} parameters; loss ${s.loss}, ${s.optimizer}` +
      `${s.lr === undefined ? "" : ` lr ${s.lr}`}, ${epochs} epochs of ${batches} batches of ${s.batchSize}` +
      `${s.epochs === undefined ? ` (at least ${MIN_STEPS} steps)` : ""}, seed ${s.seed}, ` +
      `features ${s.scale === "standard" ? "standardised" : "as given"}`,
  );
  const bar = new ProgressBar(process.stderr, process.stderr.isTTY === true && !s.quiet);
  const width = String(epochs).length;
  // At most about 50 epoch lines: every `stride`-th epoch and the last (--history has them all).
  const stride = Math.ceil(epochs / 50);
  const started = performance.now();
  const result = await fit(
    model,
    { x: trainX, y: trainY },
    {
      loss: s.loss,
      optimizer: s.optimizer,
      ...(s.lr === undefined ? {} : { learningRate: s.lr }),
      epochs,
      batchSize: s.batchSize,
      seed: s.seed,
      ...(heldCount > 0 ? { validation: { x: heldX, y: heldY } } : {}),
      onBatch: bar.enabled
        ? ({ epoch, batch, batches, loss }) =>
            bar.update(
              `epoch ${String(epoch).padStart(width)}/${epochs}`,
              batch,
              batches,
              `loss ${fixed(loss)}`,
            )
        : undefined,
      onEpoch: (e: EpochStats) => {
        bar.clear();
        if (e.epoch % stride !== 0 && e.epoch !== epochs && e.epoch !== 1) return;
        const held =
          e.valLoss === null
            ? ""
            : `  |  held-out loss ${fixed(e.valLoss)}  KL ${fixed(e.valKl!)}  acc ${pct(e.valAccuracy!).padStart(6)}`;
        log(
          `epoch ${String(e.epoch).padStart(width)}/${epochs}  loss ${fixed(e.loss)}  KL ${fixed(e.kl)}  ` +
            `acc ${pct(e.accuracy).padStart(6)}${held}  ${seconds(e.time)}`,
        );
      },
    },
  );
  bar.clear();
  const elapsed = performance.now() - started;
  if (result.diverged) {
    model.dispose();
    const at = result.divergedAt!;
    throw trainingDiverged(at.epoch, at.batch, at.loss, at.reason);
  }

  const evaluate = (x: Float32Array, labelsOf: Int32Array): Metrics => {
    const e = model.evaluate(x, labelsOf, { loss: s.loss });
    return { loss: e.loss, kl: e.kl, accuracy: e.accuracy, rows: e.rows };
  };
  const trainMetrics = evaluate(trainX, trainY);
  const heldMetrics = heldCount > 0 ? evaluate(heldX, heldY) : null;
  const file: ClassifierFile = {
    format: "klcore-classifier",
    version: 1,
    label: labelName,
    labels,
    features: featureColumns.map((c) => table.header[c]!),
    header: table.named,
    scaling: scaling ? scaling.toJSON() : { method: "none" },
    training: {
      data: s.data,
      rows,
      trainRows: split.train.length,
      heldOutRows: split.held.length,
      model: s.model,
      loss: s.loss,
      optimizer: s.optimizer,
      learningRate: s.lr ?? null,
      epochs,
      epochsRun: result.history.length,
      batchSize: s.batchSize,
      seed: s.seed,
      validation: s.validation,
      stopReason: result.stopReason,
      train: trainMetrics,
      heldOut: heldMetrics,
    },
    model: model.toJSON(),
  };
  model.dispose();
  writeAtomically(s.out, `${JSON.stringify(file, null, 1)}\n`);
  if (s.history !== undefined) writeAtomically(s.history, historyText(s.history, result.history));

  // The summary is printed even with --quiet: it is the command's result.
  console.log(
    `trained ${name} in ${seconds(elapsed)} (${result.history.length} epochs, ${result.stopReason})`,
  );
  console.log(`  training rows:  ${metricsLine(trainMetrics)}`);
  if (heldMetrics) console.log(`  held-out rows:  ${metricsLine(heldMetrics)}`);
  console.log(`wrote ${s.out}${s.history === undefined ? "" : ` and ${s.history}`}`);
}
