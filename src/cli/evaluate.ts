// klcore evaluate MODEL.json DATA.csv [--label COLUMN] [--json] [reading options]: the model's
// loss, KL and accuracy on labelled rows, and the confusion matrix, with the labels of training.

import { parseCommand, READING_OPTIONS, readingOptions, stringOption } from "./args.js";
import { findColumn, labelCells, readTable } from "./csv.js";
import { unseenLabel } from "./errors.js";
import { featureValues } from "./features.js";
import { readClassifier } from "./modelfile.js";
import { toJson, writeOut } from "./output.js";
import { fixed, pct } from "./progress.js";

export async function evaluate(args: readonly string[]): Promise<void> {
  const { values, positionals } = parseCommand(
    "evaluate",
    args,
    { label: { type: "string" }, json: { type: "boolean" }, ...READING_OPTIONS },
    { names: ["MODEL.json", "DATA.csv"], required: 2 },
  );
  const [modelPath, dataPath] = positionals as [string, string];
  const { file, classifier } = readClassifier(modelPath);
  const model = classifier.model;
  try {
    const table = readTable(dataPath, readingOptions("evaluate", values, file.header !== false));
    const labelName = stringOption(values.label) ?? file.label;
    const column = findColumn(table, labelName, "--label");
    const classOf = new Map(file.labels.map((l, k) => [l, k]));
    const cells = labelCells(table, column);
    const raw = featureValues(table, classifier);
    const y = Int32Array.from(cells, (cell, r) => {
      const k = classOf.get(cell);
      if (k === undefined) {
        const name = table.named ? table.header[column] : undefined;
        table.problems.add(
          r,
          table.lines[r]!,
          column + 1,
          unseenLabel(dataPath, table.lines[r]!, column + 1, name, cell, file.labels),
        );
      }
      return k ?? 0;
    });
    table.problems.check();
    const x = classifier.scale(raw);
    const lossName = file.training.loss as "kl";
    const e = model.evaluate(x, y, { loss: lossName });
    const q = model.predict(x);
    const classes = model.classes;
    const confusion = file.labels.map(() => new Array<number>(classes).fill(0));
    let correct = 0;
    for (let r = 0; r < y.length; r++) {
      // The first most probable class; the accuracy is counted here too, so it matches the matrix.
      let best = 0;
      for (let k = 1; k < classes; k++) if (q[r * classes + k]! > q[r * classes + best]!) best = k;
      confusion[y[r]!]![best]!++;
      if (best === y[r]) correct++;
    }
    if (values.json === true) {
      const report = {
        model: modelPath,
        data: dataPath,
        rows: e.rows,
        loss: { name: lossName, value: e.loss },
        kl: e.kl,
        accuracy: correct / e.rows,
        correct,
        labels: file.labels,
        confusion,
      };
      await writeOut(`${toJson(report)}\n`);
      return;
    }
    const width = Math.max(
      ...file.labels.map((l) => l.length),
      ...confusion.flat().map((n) => String(n).length),
      3,
    );
    const cell = (s: string): string => s.padStart(width);
    const lines = [
      `klcore evaluate: ${modelPath} on ${dataPath}, ${e.rows} rows (labels in column ${table.named ? JSON.stringify(labelName) : labelName})`,
      `${`loss (${lossName})`.padEnd(20)} ${fixed(e.loss)}`,
      `${"KL".padEnd(20)} ${fixed(e.kl)} nats`,
      `${"accuracy".padEnd(20)} ${pct(correct / e.rows)} (${correct}/${e.rows})`,
      "",
      "confusion matrix: a row per true label, a column per predicted label",
      `${cell("")}  ${file.labels.map(cell).join(" ")}`,
      ...confusion.map((row, k) => `${cell(file.labels[k]!)}  ${row.map((n) => cell(String(n))).join(" ")}`),
    ];
    await writeOut(`${lines.join("\n")}\n`);
  } finally {
    classifier.dispose();
  }
}
