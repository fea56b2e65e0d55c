// klcore train DATA.csv --label COLUMN [options]: reads and checks the whole file, holds out a
// seeded random fraction, standardises the features on the training rows, trains with fit() and
// writes the model file only when training has succeeded.

import { existsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { fit, mlp, softmaxRegression, type EpochStats, type LossName, type Model } from "klcore";
import {
  choiceOption,
  integerOption,
  numberOption,
  parseCommand,
  stringOption,
  widthsOption,
  type OptionSpec,
} from "./args.js";
import { findColumn, labelCells, numericColumns, readTable, sortLabels } from "./csv.js";
import {
  missingOption,
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
  type Scaling,
} from "./modelfile.js";
import { fixed, pct, ProgressBar, seconds } from "./progress.js";
import { splitRows } from "./random.js";

const OPTIONS: OptionSpec = {
  label: { type: "string" },
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
  quiet: { type: "boolean" },
};

const LOSSES: readonly LossName[] = ["kl", "cross-entropy", "mse", "l1", "js"];
const OPTIMIZERS = ["adam", "sgd", "rmsprop", "adagrad"] as const;

interface TrainSettings {
  data: string;
  label: string;
  model: "softmax" | "mlp";
  hidden: number[];
  activation: "relu" | "tanh";
  loss: LossName;
  optimizer: (typeof OPTIMIZERS)[number];
  lr: number | undefined;
  epochs: number;
  batchSize: number;
  seed: number;
  validation: number;
  scale: "standard" | "none";
  out: string;
  quiet: boolean;
}

function settingsOf(args: readonly string[]): TrainSettings {
  const c = "train";
  const { values: v, positionals } = parseCommand(c, args, OPTIONS, { names: ["DATA.csv"], required: 1 });
  const label = stringOption(v.label);
  if (label === undefined) throw missingOption(c, "--label", "COLUMN (the column holding the classes)");
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
  return {
    data: positionals[0]!,
    label,
    model,
    hidden: widthsOption(c, "--hidden", v.hidden, [64]),
    activation: choiceOption(c, "--activation", v.activation, "relu", ["relu", "tanh"] as const),
    loss: choiceOption(c, "--loss", v.loss, "kl", LOSSES),
    optimizer: choiceOption(c, "--optimizer", v.optimizer, "adam", OPTIMIZERS),
    lr: numberOption(c, "--lr", v.lr, undefined, { expected: "a number > 0", ok: (x) => x > 0 }),
    epochs: integerOption(c, "--epochs", v.epochs, 20, 1),
    batchSize: integerOption(c, "--batch-size", v["batch-size"], 32, 1),
    seed: integerOption(c, "--seed", v.seed, 0, 0),
    validation: numberOption(c, "--validation", v.validation, 0.2, {
      expected: "a fraction >= 0 and < 1",
      ok: (x) => x >= 0 && x < 1,
    })!,
    scale: choiceOption(c, "--scale", v.scale, "standard", ["standard", "none"] as const),
    out,
    quiet: v.quiet === true,
  };
}

const describe = (m: Model): string =>
  m.kind === "mlp"
    ? `MLP ${[m.inputs, ...m.hidden, m.classes].join("-")} (${m.activation})`
    : `softmax regression ${m.inputs}-${m.classes}`;

const metricsLine = (m: Metrics): string =>
  `loss ${fixed(m.loss)}  KL ${fixed(m.kl)}  accuracy ${pct(m.accuracy)} (${Math.round(m.accuracy * m.rows)}/${m.rows})`;

export async function train(args: readonly string[]): Promise<void> {
  const s = settingsOf(args);

  // ---- the data, checked whole before anything is trained ----
  const table = readTable(s.data);
  const labelColumn = findColumn(table, s.label, "--label");
  const featureColumns = table.header.map((_, c) => c).filter((c) => c !== labelColumn);
  if (featureColumns.length === 0) throw noFeatures(s.data, s.label);
  const cells = labelCells(table, labelColumn);
  const values = numericColumns(table, featureColumns);
  const labels = sortLabels(cells);
  if (labels.length < 2) throw oneLabel(s.data, s.label, labels[0]!);
  const classOf = new Map(labels.map((l, k) => [l, k]));
  const y = Int32Array.from(cells, (l) => classOf.get(l)!);
  const rows = table.rows.length;
  const inputs = featureColumns.length;
  const classes = labels.length;

  const heldCount = s.validation > 0 ? Math.round(rows * s.validation) : 0;
  if (s.validation > 0 && (heldCount < 1 || heldCount >= rows))
    throw splitImpossible(s.data, rows, s.validation);
  const split =
    heldCount > 0 ? splitRows(rows, heldCount, s.seed) : { train: allRows(rows), held: allRows(0) };
  const scaling: Scaling =
    s.scale === "standard" ? fitScaling(values, inputs, split.train) : { method: "none" };
  const trainX = scaledRows(values, inputs, split.train, scaling);
  const trainY = Int32Array.from(split.train, (r) => y[r]!);
  const heldX = scaledRows(values, inputs, split.held, scaling);
  const heldY = Int32Array.from(split.held, (r) => y[r]!);

  // ---- the model and training ----
  const model =
    s.model === "mlp"
      ? mlp({ inputs, hidden: s.hidden, classes, activation: s.activation, seed: s.seed })
      : softmaxRegression({ inputs, classes, seed: s.seed });
  const name = describe(model);
  const log = (line: string): void => {
    if (!s.quiet) console.log(line);
  };
  log(
    `klcore train: ${s.data}, ${rows} rows, ${inputs} features, ${classes} classes (column ${JSON.stringify(s.label)}); ` +
      `${split.train.length} training rows, ${split.held.length} held out` +
      (heldCount > 0 ? ` (a seeded random ${pct(s.validation)})` : ""),
  );
  log(
    `${name}, ${model.parameterCount} parameters; loss ${s.loss}, ${s.optimizer}` +
      `${s.lr === undefined ? "" : ` lr ${s.lr}`}, ${s.epochs} epochs, batch ${s.batchSize}, seed ${s.seed}, ` +
      `features ${s.scale === "standard" ? "standardised" : "as given"}`,
  );
  const bar = new ProgressBar(process.stderr, process.stderr.isTTY === true && !s.quiet);
  const width = String(s.epochs).length;
  const started = performance.now();
  const result = await fit(
    model,
    { x: trainX, y: trainY },
    {
      loss: s.loss,
      optimizer: s.optimizer,
      ...(s.lr === undefined ? {} : { learningRate: s.lr }),
      epochs: s.epochs,
      batchSize: s.batchSize,
      seed: s.seed,
      ...(heldCount > 0 ? { validation: { x: heldX, y: heldY } } : {}),
      onBatch: bar.enabled
        ? ({ epoch, batch, batches, loss }) =>
            bar.update(
              `epoch ${String(epoch).padStart(width)}/${s.epochs}`,
              batch,
              batches,
              `loss ${fixed(loss)}`,
            )
        : undefined,
      onEpoch: (e: EpochStats) => {
        bar.clear();
        const held =
          e.valLoss === null
            ? ""
            : `  |  held-out loss ${fixed(e.valLoss)}  KL ${fixed(e.valKl!)}  acc ${pct(e.valAccuracy!).padStart(6)}`;
        log(
          `epoch ${String(e.epoch).padStart(width)}/${s.epochs}  loss ${fixed(e.loss)}  KL ${fixed(e.kl)}  ` +
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
    label: s.label,
    labels,
    features: featureColumns.map((c) => table.header[c]!),
    scaling,
    training: {
      data: s.data,
      rows,
      trainRows: split.train.length,
      heldOutRows: split.held.length,
      model: s.model,
      loss: s.loss,
      optimizer: s.optimizer,
      learningRate: s.lr ?? null,
      epochs: s.epochs,
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

  // The summary is printed even with --quiet: it is the command's result.
  console.log(
    `trained ${name} in ${seconds(elapsed)} (${result.history.length} epochs, ${result.stopReason})`,
  );
  console.log(`  training rows:  ${metricsLine(trainMetrics)}`);
  if (heldMetrics) console.log(`  held-out rows:  ${metricsLine(heldMetrics)}`);
  console.log(`wrote ${s.out}`);
}
