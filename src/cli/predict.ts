// klcore predict MODEL.json DATA.csv: the class probabilities of every row, as CSV on stdout, a
// column per class label.

import { parseCommand } from "./args.js";
import { csvCell, readTable } from "./csv.js";
import { float32Text, modelInput } from "./features.js";
import { readClassifier } from "./modelfile.js";
import { writeOut } from "./output.js";

export async function predict(args: readonly string[]): Promise<void> {
  const { positionals } = parseCommand(
    "predict",
    args,
    {},
    { names: ["MODEL.json", "DATA.csv"], required: 2 },
  );
  const { file, model } = readClassifier(positionals[0]!);
  try {
    const table = readTable(positionals[1]!);
    const x = modelInput(table, file);
    const q = model.predict(x);
    const classes = model.classes;
    const lines: string[] = [file.labels.map(csvCell).join(",")];
    for (let r = 0; r < table.rows.length; r++) {
      const cells: string[] = [];
      for (let k = 0; k < classes; k++) cells.push(float32Text(q[r * classes + k]!));
      lines.push(cells.join(","));
    }
    await writeOut(`${lines.join("\n")}\n`);
  } finally {
    model.dispose();
  }
}
