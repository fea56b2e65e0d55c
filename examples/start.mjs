// What `npm start` runs: `klcore train` (cli/dist/cli.js) on the embedded UCI handwritten digits
// (data/digits.csv, 1797 images of 8x8 pixels), first softmax regression, then an MLP, both by
// minimising KL(p || q_theta), each holding out the same seeded random 20% of the images. Each run
// prints its progress (a bar on a terminal), every epoch's loss, KL and accuracy, the held-out
// accuracy and its time; the models land in build/. Then both held-out accuracies, side by side.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const SEED = "20261121";
const common = ["data/digits.csv", "--label", "label", "--validation", "0.2", "--seed", SEED];
const runs = [
  {
    name: "softmax regression",
    out: "build/digits-softmax.json",
    args: ["--model", "softmax", "--lr", "0.01", "--epochs", "30"],
  },
  {
    name: "MLP",
    out: "build/digits-mlp.json",
    args: ["--model", "mlp", "--hidden", "64", "--lr", "0.003", "--epochs", "40"],
  },
];

mkdirSync(`${root}build`, { recursive: true });
const results = runs.map(({ name, out, args }, i) => {
  if (i > 0) console.log();
  const command = ["train", ...common, ...args, "--out", out];
  console.log(`$ klcore ${command.join(" ")}`);
  // The child writes straight to this terminal, so its progress bar shows; a failure stops here.
  execFileSync(process.execPath, ["cli/dist/cli.js", ...command], { cwd: root, stdio: "inherit" });
  const held = JSON.parse(readFileSync(`${root}${out}`, "utf8")).training.heldOut;
  return `${name} ${(100 * held.accuracy).toFixed(1)}% (${Math.round(held.accuracy * held.rows)}/${held.rows})`;
});
console.log(`\nheld-out accuracy: ${results.join(", ")}`);
