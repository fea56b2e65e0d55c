// klcore predict MODEL.json DATA.csv [reading options]: the class probabilities of every row, as
// CSV on stdout, a column per class label, then the predicted label (the most probable class).

import { parseCommand, READING_OPTIONS, readingOptions } from "./args.js";
import { csvCell, readTable } from "./csv.js";
import { featureValues, float32Text } from "./features.js";
import { readClassifier } from "./modelfile.js";
import { writeOut } from "./output.js";

/** The predicted label's column: "predicted", or "_predicted" (and so on) when a class has that name. */
export function predictedColumn(labels: readonly string[]): string {
  let name = "predicted";
  while (labels.includes(name)) name = `_${name}`;
  return name;
}

export async function predict(args: readonly string[]): Promise<void> {
  const { values: options, positionals } = parseCommand("predict", args, READING_OPTIONS, {
    names: ["MODEL.json", "DATA.csv"],
    required: 2,
  });
  const { file, classifier } = readClassifier(positionals[0]!);
  try {
    // A model trained on a file without a header reads files without one unless told otherwise.
    const reading = readingOptions("predict", options, file.header !== false);
    const table = readTable(positionals[1]!, reading);
    const values = featureValues(table, classifier);
    table.problems.check();
    const { probabilities: q, labels } = classifier.predict(values);
    const classes = classifier.labels.length;
    const lines: string[] = [
      [...classifier.labels, predictedColumn(classifier.labels)].map(csvCell).join(","),
    ];
    for (let r = 0; r < table.rows.length; r++) {
      const cells: string[] = [];
      for (let k = 0; k < classes; k++) cells.push(float32Text(q[r * classes + k]!));
      cells.push(csvCell(labels[r]!));
      lines.push(cells.join(","));
    }
    await writeOut(`${lines.join("\n")}\n`);
  } finally {
    classifier.dispose();
  }
}
