// The command line as users run it: `node dist/cli.js ...` in a child process, on small CSV files
// in a temporary folder. train, predict and evaluate end to end; --help for every command; every
// error path with its message (naming the line and column of a bad cell) and exit code (2 for bad
// arguments, 1 for bad data), and no model file, not even a partial one, after a failure. Also: the
// library's bundles carry none of the command line's dependencies.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadModel } from "../dist/index.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = join(root, "dist", "cli.js");
let dir = "";

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

const klcore = (...args: string[]): Result => {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

const write = (name: string, text: string): string => {
  writeFileSync(join(dir, name), text);
  return name;
};

// Three separable clusters in two features, string labels, 20 rows each, in a seeded order.
function clusters(): string {
  const centres: Record<string, [number, number]> = { emu: [4, 0], cat: [0, 4], dog: [-4, -4] };
  let s = 7;
  const random = (): number => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const rows: string[] = [];
  for (let i = 0; i < 60; i++) {
    const label = Object.keys(centres)[i % 3]!;
    const [a, b] = centres[label]!;
    rows.push(`${(a + random()).toFixed(3)},${(b + random()).toFixed(3)},${label}`);
  }
  return `width,height,animal\n${rows.join("\n")}\n`;
}

beforeAll(() => {
  if (!existsSync(cli)) throw new Error("dist/cli.js is missing: run `npm run build` first");
  dir = mkdtempSync(join(tmpdir(), "klcore-cli-"));
  write("animals.csv", clusters());
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TRAIN = ["--label", "animal", "--epochs", "30", "--lr", "0.05", "--validation", "0.25", "--seed", "3"];

describe("klcore --help and usage", () => {
  it("prints the commands with --help, -h and help; the version with --version", () => {
    for (const flag of ["--help", "-h", "help"]) {
      const r = klcore(flag);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Usage: klcore <command>/);
      for (const c of ["train", "predict", "evaluate", "compare-losses", "compare-vi", "bench"])
        expect(r.stdout).toContain(c);
    }
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
    expect(klcore("--version").stdout.trim()).toBe(pkg.version);
  });

  it("prints each command's help, exit code 0, whatever else is on the line", () => {
    for (const c of ["train", "predict", "evaluate", "compare-losses", "compare-vi", "bench"]) {
      for (const args of [
        [c, "--help"],
        [c, "-h"],
        [c, "--bogus", "--help"],
        ["help", c],
      ]) {
        const r = klcore(...args);
        expect(r.code, args.join(" ")).toBe(0);
        expect(r.stdout).toContain(`Usage: klcore ${c}`);
        expect(r.stdout).toMatch(/Exit code/);
      }
    }
  });

  it("no command, or an unknown one: a message on stderr and exit code 2", () => {
    const none = klcore();
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no command given/);
    const bad = klcore("frobnicate");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown command "frobnicate"/);
    expect(bad.stdout).toBe("");
  });
});

describe("klcore train, predict, evaluate", () => {
  let trained: Result;
  beforeAll(() => {
    trained = klcore("train", "animals.csv", ...TRAIN, "--hidden", "8", "--out", "model.json");
  });

  it("trains, reports every epoch and a summary, and writes the model with its labels and scaling", () => {
    expect(trained.code, trained.stderr).toBe(0);
    // Not a terminal: no progress bar, so nothing on stderr.
    expect(trained.stderr).toBe("");
    const epochs = trained.stdout.match(
      /^epoch +\d+\/30 +loss [\d.]+ +KL [\d.]+ +acc +[\d.]+%.*held-out loss/gm,
    );
    expect(epochs).toHaveLength(30);
    expect(trained.stdout).toMatch(/60 rows, 2 features, 3 classes/);
    expect(trained.stdout).toMatch(/45 training rows, 15 held out/);
    expect(trained.stdout).toMatch(/held-out rows: +loss [\d.]+ +KL [\d.]+ +accuracy 100\.0% \(15\/15\)/);
    expect(trained.stdout).toMatch(/wrote model\.json/);
    const file = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
    expect(file.format).toBe("klcore-classifier");
    expect(file.label).toBe("animal");
    expect(file.labels).toEqual(["cat", "dog", "emu"]);
    expect(file.features).toEqual(["width", "height"]);
    expect(file.scaling.method).toBe("standard");
    expect(file.scaling.mean).toHaveLength(2);
    expect(file.training).toMatchObject({
      loss: "kl",
      optimizer: "adam",
      epochs: 30,
      trainRows: 45,
      heldOutRows: 15,
    });
    // The model part is what the library saves and loads.
    const model = loadModel(file.model);
    expect([model.kind, model.inputs, model.classes, model.hidden]).toEqual(["mlp", 2, 3, [8]]);
    model.dispose();
  });

  it("is reproducible: the same seed writes the same file; another seed holds out other rows", () => {
    expect(klcore("train", "animals.csv", ...TRAIN, "--hidden", "8", "--out", "again.json").code).toBe(0);
    expect(readFileSync(join(dir, "again.json"), "utf8")).toBe(readFileSync(join(dir, "model.json"), "utf8"));
    const other = klcore("train", "animals.csv", ...TRAIN.slice(0, -1), "4", "--out", "other.json");
    expect(other.code).toBe(0);
    const [a, b] = ["model.json", "other.json"].map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")));
    expect(a.scaling.mean).not.toEqual(b.scaling.mean);
  });

  it("softmax regression, other losses and optimisers, --quiet", () => {
    const r = klcore(
      "train",
      "animals.csv",
      "--label",
      "animal",
      "--model",
      "softmax",
      "--loss",
      "mse",
      "--optimizer",
      "sgd",
      "--lr",
      "0.5",
      "--epochs",
      "5",
      "--batch-size",
      "7",
      "--validation",
      "0",
      "--scale",
      "none",
      "--quiet",
      "--out",
      "soft.json",
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/^epoch/m);
    expect(r.stdout).toMatch(/trained softmax regression 2-3/);
    expect(r.stdout).not.toMatch(/held-out rows/);
    const file = JSON.parse(readFileSync(join(dir, "soft.json"), "utf8"));
    expect(file.scaling).toEqual({ method: "none" });
    expect(file.training).toMatchObject({
      model: "softmax",
      loss: "mse",
      optimizer: "sgd",
      learningRate: 0.5,
    });
    expect(file.training.heldOut).toBeNull();
  });

  it("predict writes a probability per class label and the predicted label, columns found by name, others ignored", () => {
    const r = klcore("predict", "model.json", "animals.csv");
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("cat,dog,emu,predicted");
    expect(lines).toHaveLength(61);
    const truth = readFileSync(join(dir, "animals.csv"), "utf8").trim().split("\n").slice(1);
    let right = 0;
    lines.slice(1).forEach((line, i) => {
      const cells = line.split(",");
      const q = cells.slice(0, 3).map(Number);
      expect(cells).toHaveLength(4);
      expect(q.every((v) => v >= 0 && v <= 1)).toBe(true);
      expect(Math.abs(q.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5);
      // The predicted label is the most probable class's.
      expect(cells[3]).toBe(["cat", "dog", "emu"][q.indexOf(Math.max(...q))]);
      if (cells[3] === truth[i]!.split(",")[2]) right++;
    });
    expect(right).toBeGreaterThanOrEqual(58);
    // The same rows with the columns swapped, an extra column and no label.
    const rows = readFileSync(join(dir, "animals.csv"), "utf8").trim().split("\n").slice(1);
    write(
      "swapped.csv",
      `id,height,width\n${rows.map((l, i) => `${i},${l.split(",")[1]},${l.split(",")[0]}`).join("\n")}\n`,
    );
    expect(klcore("predict", "model.json", "swapped.csv").stdout).toBe(r.stdout);
  });

  it("evaluate reports loss, KL, accuracy and the confusion matrix; --json agrees with predict", () => {
    const text = klcore("evaluate", "model.json", "animals.csv");
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/loss \(kl\) +[\d.]+/);
    expect(text.stdout).toMatch(/KL +[\d.]+ nats/);
    expect(text.stdout).toMatch(/accuracy +[\d.]+% \(\d+\/60\)/);
    expect(text.stdout).toMatch(/confusion matrix/);
    expect(text.stdout).toMatch(/^ +cat +dog +emu$/m);
    const r = klcore("evaluate", "model.json", "animals.csv", "--json");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      rows: number;
      loss: { name: string; value: number };
      kl: number;
      accuracy: number;
      correct: number;
      labels: string[];
      confusion: number[][];
    };
    expect(report.rows).toBe(60);
    expect(report.labels).toEqual(["cat", "dog", "emu"]);
    expect(report.loss.name).toBe("kl");
    expect(report.loss.value).toBe(report.kl);
    expect(report.confusion.flat().reduce((a, b) => a + b, 0)).toBe(60);
    const trace = report.confusion.reduce((a, row, k) => a + row[k]!, 0);
    expect(trace).toBe(report.correct);
    expect(report.accuracy).toBe(trace / 60);
    // Every row's predicted class is the argmax of predict's probabilities.
    const probs = klcore("predict", "model.json", "animals.csv").stdout.trim().split("\n").slice(1);
    const truth = readFileSync(join(dir, "animals.csv"), "utf8")
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => l.split(",")[2]!);
    const counted = report.labels.map(() => report.labels.map(() => 0));
    probs.forEach((line, i) => {
      const q = line.split(",").slice(0, 3).map(Number);
      counted[report.labels.indexOf(truth[i]!)]![q.indexOf(Math.max(...q))]!++;
    });
    expect(counted).toEqual(report.confusion);
  });

  it("numeric labels are classes in numeric order; --label picks the column", () => {
    write("numeric.csv", "x,grade\n1,10\n2,9\n3,2\n4,10\n5,9\n6,2\n");
    expect(
      klcore(
        "train",
        "numeric.csv",
        "--label",
        "grade",
        "--validation",
        "0",
        "--epochs",
        "1",
        "--out",
        "n.json",
      ).code,
    ).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "n.json"), "utf8")).labels).toEqual(["2", "9", "10"]);
    expect(klcore("predict", "n.json", "numeric.csv").stdout.split("\n")[0]).toBe("2,9,10,predicted");
  });

  // util-linux's script(1) gives the child a terminal. Without it the test is reported skipped,
  // not passed; CI installs it and sets KLCORE_REQUIRE_TTY=1, which makes its absence a failure.
  const hasScript = spawnSync("script", ["--version"], { encoding: "utf8" }).status === 0;
  it.skipIf(!hasScript && !process.env.KLCORE_REQUIRE_TTY)(
    "draws a progress bar on stderr when it is a terminal",
    () => {
      expect(hasScript, "script(1) from util-linux (Debian: bsdutils) is needed").toBe(true);
      const r = spawnSync(
        "script",
        [
          "-qec",
          `"${process.execPath}" "${cli}" train animals.csv --label animal --epochs 2 --out tty.json`,
          "/dev/null",
        ],
        { cwd: dir, encoding: "utf8" },
      );
      expect(r.status).toBe(0);
      // Drawn in place: a carriage return and an erase-line before each redraw.
      expect(r.stdout).toContain("\r\u001b[Kepoch 1/2 [####");
      expect(r.stdout).toMatch(/epoch 2\/2 +loss [\d.]+ +KL/);
    },
  );
});

describe("CSV files as they come", () => {
  const sklearn = (name: string): string => join(root, "test", "fixtures", "sklearn", name);
  const json = (name: string) => JSON.parse(readFileSync(join(dir, name), "utf8"));
  // The animals' rows without the header.
  const rows = (): string[] => clusters().trim().split("\n").slice(1);
  const QUICK = ["--epochs", "30", "--lr", "0.05", "--validation", "0.25", "--seed", "3", "--quiet"];
  // The animals trained from the comma file with a header: what the other forms must reproduce.
  beforeAll(() => {
    const r = klcore("train", "animals.csv", "--label", "animal", ...QUICK, "--out", "plain.json");
    if (r.code !== 0) throw new Error(r.stderr);
  });

  it.each([
    ["iris.csv", 150, 4, ["setosa", "versicolor", "virginica"], 0.93],
    ["wine_data.csv", 178, 13, ["class_0", "class_1", "class_2"], 0.94],
    ["breast_cancer.csv", 569, 30, ["malignant", "benign"], 0.94],
  ] as const)(
    "scikit-learn's %s with no flags: its first line recognised, its classes named, the usual held-out accuracy",
    (name, count, features, classes, least) => {
      const out = `${name}.json`;
      const r = klcore("train", sklearn(name), "--out", out);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe("");
      expect(r.stdout).toContain(
        `:1 is scikit-learn's first line (${count} rows, ${features} features, classes ${classes.join(", ")}), not a header`,
      );
      expect(r.stdout).toMatch(
        new RegExp(
          `${count} rows, ${features} features, ${classes.length} classes \\(column ${features + 1}, the last\\)`,
        ),
      );
      const file = json(out);
      expect(file.header).toBe(false);
      expect(file.label).toBe(String(features + 1));
      expect(file.features).toEqual(Array.from({ length: features }, (_, i) => String(i + 1)));
      expect(file.labels).toEqual([...classes].sort());
      // The default epochs: at least 2,000 steps of 32 rows.
      const batches = Math.ceil(file.training.trainRows / 32);
      expect(file.training.epochs).toBe(Math.max(20, Math.ceil(2000 / batches)));
      expect(file.training.heldOutRows).toBe(Math.round(count * 0.2));
      expect(file.training.heldOut.accuracy).toBeGreaterThanOrEqual(least);
      // predict and evaluate read the same file the same way.
      const p = klcore("predict", out, sklearn(name));
      expect(p.code, p.stderr).toBe(0);
      const lines = p.stdout.trimEnd().split("\n");
      expect(lines[0]).toBe([...[...classes].sort(), "predicted"].join(","));
      expect(lines).toHaveLength(count + 1);
      const e = JSON.parse(klcore("evaluate", out, sklearn(name), "--json").stdout);
      expect(e.rows).toBe(count);
      expect(e.accuracy).toBeGreaterThanOrEqual(least);
    },
  );

  it("the hold-out is stratified: each class gives its share, the remainders to the largest", () => {
    // The feature is the class number, so the scaling's mean (fitted on the training rows) counts
    // the classes left for training.
    const classRows = (counts: number[]): string =>
      counts.flatMap((n, k) => Array.from({ length: n }, () => `${k},c${k}`)).join("\n");
    write("strata.csv", `k,label\n${classRows([10, 10, 10])}\n`);
    klcore(
      "train",
      "strata.csv",
      "--validation",
      "0.2",
      "--epochs",
      "1",
      "--seed",
      "5",
      "--out",
      "strata.json",
    );
    expect(json("strata.json").training.heldOutRows).toBe(6);
    expect(json("strata.json").scaling.mean).toEqual([1]);
    // 5, 3 and 2 rows holding out 5: quotas 2, 1 and 1, and the row left over to class 0 (a
    // remainder of 0.5, as class 1's; the lower class first): training keeps 2, 2 and 1.
    write("strata2.csv", `k,label\n${classRows([5, 3, 2])}\n`);
    for (const seed of ["0", "1", "2"]) {
      klcore(
        "train",
        "strata2.csv",
        "--validation",
        "0.5",
        "--epochs",
        "1",
        "--seed",
        seed,
        "--out",
        "strata2.json",
      );
      expect(json("strata2.json").scaling.mean[0]).toBeCloseTo((0 * 2 + 1 * 2 + 2 * 1) / 5, 14);
    }
  });

  it("--skip-rows 1 --no-header reads scikit-learn's file as numbers: classes 0, 1, 2", () => {
    const r = klcore(
      "train",
      sklearn("iris.csv"),
      "--skip-rows",
      "1",
      "--no-header",
      "--epochs",
      "2",
      "--quiet",
      "--out",
      "iris-n.json",
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/scikit-learn/);
    expect(json("iris-n.json").labels).toEqual(["0", "1", "2"]);
    // Without --no-header the first row after the skipped line is a header of numbers.
    const named = klcore(
      "train",
      sklearn("iris.csv"),
      "--skip-rows",
      "1",
      "--epochs",
      "1",
      "--quiet",
      "--out",
      "iris-h.json",
    );
    expect(named.code, named.stderr).toBe(0);
    expect(json("iris-h.json").features).toEqual(["5.1", "3.5", "1.4", "0.2"]);
  });

  it("semicolons with decimal commas, tabs, and --delimiter: the same model as the comma file", () => {
    const semicolon = clusters()
      .replace(/,/g, ";")
      .replace(/(\d)\.(\d)/g, "$1,$2");
    write("semicolon.csv", semicolon);
    write("tabs.tsv", clusters().replace(/,/g, "\t"));
    write("pipes.csv", clusters().replace(/,/g, "|"));
    const model = (f: string): unknown => ({ ...json(f), training: { ...json(f).training, data: "" } });
    for (const [data, extra] of [
      ["semicolon.csv", []],
      ["semicolon.csv", ["--delimiter", ";"]],
      ["tabs.tsv", []],
      ["tabs.tsv", ["--delimiter", "tab"]],
      ["pipes.csv", ["--delimiter", "|"]],
    ] as const) {
      const r = klcore("train", data, "--label", "animal", ...QUICK, ...extra, "--out", "d.json");
      expect(r.code, `${data} ${extra.join(" ")}: ${r.stderr}`).toBe(0);
      expect(model("d.json")).toEqual(model("plain.json"));
    }
    // predict and evaluate take the same options.
    const want = klcore("predict", "plain.json", "animals.csv").stdout;
    expect(klcore("predict", "plain.json", "semicolon.csv").stdout).toBe(want);
    expect(klcore("predict", "plain.json", "pipes.csv", "--delimiter", "|").stdout).toBe(want);
    expect(JSON.parse(klcore("evaluate", "plain.json", "tabs.tsv", "--json").stdout).correct).toBe(
      JSON.parse(klcore("evaluate", "plain.json", "animals.csv", "--json").stdout).correct,
    );
    // A comma is not a decimal separator in a comma-separated file.
    write("commas.csv", "a,b,label\n1,5,2,x\n");
    expect(klcore("train", "commas.csv", "--label", "label").stderr).toMatch(/commas\.csv:2: 4 cells/);
  });

  it("--no-header: columns by number, --label by number, the last by default; predict follows the model", () => {
    write("bare.csv", `${rows().join("\n")}\n`);
    const a = klcore("train", "bare.csv", "--no-header", ...QUICK, "--out", "bare.json");
    expect(a.code, a.stderr).toBe(0);
    const b = klcore("train", "bare.csv", "--no-header", "--label", "3", ...QUICK, "--out", "bare3.json");
    expect(b.code, b.stderr).toBe(0);
    expect(readFileSync(join(dir, "bare3.json"), "utf8")).toBe(readFileSync(join(dir, "bare.json"), "utf8"));
    const file = json("bare.json");
    expect([file.header, file.label, file.features, file.labels]).toEqual([
      false,
      "3",
      ["1", "2"],
      ["cat", "dog", "emu"],
    ]);
    // The same model as from the named file: the same values, names aside.
    expect(json("plain.json").model).toEqual(file.model);
    // By number in a file with a header too.
    expect(klcore("train", "animals.csv", "--label", "3", ...QUICK, "--out", "n3.json").code).toBe(0);
    expect(json("n3.json").model).toEqual(file.model);
    // A model trained without a header reads files without one.
    const p = klcore("predict", "bare.json", "bare.csv");
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toBe(klcore("predict", "plain.json", "animals.csv").stdout);
    expect(klcore("predict", "bare.json", "animals.csv", "--skip-rows", "1").stdout).toBe(p.stdout);
    expect(JSON.parse(klcore("evaluate", "bare.json", "bare.csv", "--json").stdout).rows).toBe(60);
    const missing = klcore("train", "bare.csv", "--no-header", "--label", "4");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /bare\.csv:1: no column "4" \(--label\): the file has no header \(--no-header\), so its 3 columns are named by their numbers, 1 to 3/,
    );
  });

  it("--skip-rows N: lines before the header are skipped, and messages count them", () => {
    write(
      "notes.csv",
      `# measured on 2026-01-01\n# by hand\nwidth,height,animal\n${rows().slice(0, 4).join("\n")}\n1,x,cat\n`,
    );
    const r = klcore("train", "notes.csv", "--skip-rows", "2", "--epochs", "1", "--out", "notes.json");
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'klcore: notes.csv:8: column 2 ("height"): "x" is not a number (every column but the label must be numeric)',
    );
    write("notes.csv", `# measured on 2026-01-01\n# by hand\nwidth,height,animal\n${rows().join("\n")}\n`);
    expect(klcore("train", "notes.csv", "--skip-rows", "2", ...QUICK, "--out", "notes.json").code).toBe(0);
    expect(json("notes.json").model).toEqual(json("plain.json").model);
    const all = klcore("train", "notes.csv", "--skip-rows", "99");
    expect(all.code).toBe(1);
    expect(all.stderr).toMatch(/notes\.csv: --skip-rows 99 skips every line of the file/);
  });

  it("every bad line is reported, in file order, up to 20 and then a count", () => {
    // Line 2 has a bad label only, line 3 a bad number and a bad label: its leftmost is reported.
    write("bad.csv", "a,b,label\n1,2,\n1,oops,\n3\n4,5,x\n1e39,1,y\n");
    const r = klcore("train", "bad.csv", "--label", "label", "--out", "failed.json");
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split("\n")).toEqual([
      "klcore: bad.csv: 4 bad lines:",
      '  bad.csv:2: column 3 ("label"): the label is empty',
      '  bad.csv:3: column 2 ("b"): "oops" is not a number (every column but the label must be numeric)',
      '  bad.csv:4: 1 cell, but the header (line 1) has 3 columns: column 2 ("b") is missing',
      '  bad.csv:6: column 1 ("a"): "1e39" is beyond the float32 range',
    ]);
    expect(existsSync(join(dir, "failed.json"))).toBe(false);
    const many = Array.from({ length: 30 }, (_, i) => (i % 2 ? `${i},x,y` : `${i},1,y`));
    write("many.csv", `a,b,label\n${many.join("\n")}\n`);
    const m = klcore("train", "many.csv");
    const lines = m.stderr.trimEnd().split("\n");
    expect(lines[0]).toBe("klcore: many.csv: 15 bad lines:");
    write(
      "more.csv",
      `width,height,animal\n${Array.from({ length: 25 }, (_, i) => `${i},x,cat`).join("\n")}\n`,
    );
    const more = klcore("predict", "plain.json", "more.csv").stderr.trimEnd().split("\n");
    expect(more[0]).toBe("klcore: more.csv: 25 bad lines (the first 20 below):");
    expect(more.slice(1, 21).map((l) => Number(/more\.csv:(\d+):/.exec(l)![1]))).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 2),
    );
    expect(more[21]).toBe("  ... and 5 more");
    // Unseen labels in evaluate too.
    write("unseen2.csv", "width,height,animal\n1,2,cat\n1,2,yak\n1,q,cat\n3,4,gnu\n");
    const e = klcore("evaluate", "plain.json", "unseen2.csv").stderr;
    expect(e).toMatch(
      /unseen2\.csv: 3 bad lines:\n.*:3: column 3 \("animal"\): the label "yak" was never seen.*\n.*:4: column 2 \("height"\): "q" is not a number.*\n.*:5: column 3 \("animal"\): the label "gnu"/,
    );
  });

  it("warns on stderr when the label column looks continuous", () => {
    const lines = Array.from({ length: 40 }, (_, i) => `${i % 7},${(Math.sin(i) * 50).toFixed(2)}`);
    write("price.csv", `rooms,price\n${lines.join("\n")}\n`);
    const r = klcore("train", "price.csv", "--epochs", "1", "--quiet", "--out", "price.json");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /^klcore: warning: the label column "price" holds 40 distinct numbers in 40 rows: it looks continuous.*It is the last column, the default; if the classes are in another column, name it with --label\n$/,
    );
    // rooms: 7 distinct values in 40 rows are classes, not a quantity.
    const ok = klcore(
      "train",
      "price.csv",
      "--label",
      "rooms",
      "--epochs",
      "1",
      "--quiet",
      "--out",
      "rooms.json",
    );
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toBe("");
  });

  it("train --history writes every epoch as CSV or JSON", () => {
    const args = [
      "train",
      "animals.csv",
      "--label",
      "animal",
      "--epochs",
      "12",
      "--lr",
      "0.05",
      "--seed",
      "3",
    ];
    const r = klcore(...args, "--history", "h.csv", "--out", "h.json");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote h\.json and h\.csv/);
    expect(klcore(...args, "--history", "h.json", "--out", "h2.json").code).toBe(0);
    const csv = readFileSync(join(dir, "h.csv"), "utf8").trimEnd().split("\n");
    expect(csv[0]).toBe("epoch,loss,kl,accuracy,valLoss,valKl,valAccuracy,time,batches,complete");
    const history = JSON.parse(readFileSync(join(dir, "h.json"), "utf8")) as Record<string, number>[];
    expect(history).toHaveLength(12);
    expect(csv).toHaveLength(13);
    csv.slice(1).forEach((line, i) => {
      const cells = line.split(",");
      expect(Number(cells[0])).toBe(i + 1);
      expect(Number(cells[0])).toBe(history[i]!.epoch);
      // The same run: every figure but the time.
      for (const [k, f] of ["loss", "kl", "accuracy", "valLoss", "valKl", "valAccuracy"].entries())
        expect(Number(cells[k + 1])).toBe(history[i]![f]);
    });
    // The last epoch's held-out accuracy is the model file's.
    expect(history[11]!.valAccuracy).toBe(json("h2.json").training.heldOut.accuracy);
    const bad = klcore(...args, "--history", "h.txt");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--history "h\.txt": the file must end in \.csv or \.json/);
    expect(klcore(...args, "--history", "nowhere/h.csv").stderr).toMatch(
      /--history: the directory "nowhere" does not exist/,
    );
  });

  it("prints about 50 epoch lines for many epochs, the first and the last among them", () => {
    const r = klcore("train", "animals.csv", "--epochs", "120", "--lr", "0.01");
    expect(r.code, r.stderr).toBe(0);
    const epochs = [...r.stdout.matchAll(/^epoch +(\d+)\/120 /gm)].map((m) => Number(m[1]));
    expect(epochs[0]).toBe(1);
    expect(epochs.at(-1)).toBe(120);
    expect(epochs.length).toBeLessThanOrEqual(51);
    expect(epochs.length).toBeGreaterThanOrEqual(40);
  });

  it("unknown options: did you mean", () => {
    const cases: [string[], string][] = [
      [
        ["train", "animals.csv", "--epoch", "3"],
        "unknown option --epoch for 'klcore train'; did you mean --epochs?",
      ],
      [["train", "animals.csv", "--learning-rate", "0.1"], "did you mean --lr?"],
      [["train", "animals.csv", "--batch_size", "8"], "did you mean --batch-size?"],
      [["train", "animals.csv", "--skiprows", "1"], "did you mean --skip-rows?"],
      [["predict", "m.json", "animals.csv", "--noheader"], "did you mean --no-header?"],
      [["evaluate", "m.json", "animals.csv", "--jsno"], "did you mean --json?"],
    ];
    for (const [args, message] of cases) {
      const r = klcore(...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
    }
    expect(klcore("train", "animals.csv", "--zebra").stderr).toMatch(
      /unknown option --zebra for 'klcore train'\n/,
    );
    const d = klcore("train", "animals.csv", "--delimiter", "ab");
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/--delimiter must be one character/);
  });
});

describe("errors: a message, an exit code, and no model file", () => {
  beforeAll(() => {
    write("ok.csv", "a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n");
    write("text.csv", "a,b,label\n1,2,x\n3,oops,y\n");
    write("blank.csv", "a,b,label\n1,2,x\n3,,y\n");
    write("ragged.csv", "a,b,label\n1,2,x\n\n3,y\n");
    write("long.csv", "a,b,label\n1,2,x,9\n");
    write("empty.csv", "");
    write("header.csv", "a,b,label\n");
    write("quote.csv", 'a,b,label\n1,2,x\n3,4,"y\n');
    write("dup.csv", "a,a,label\n1,2,x\n");
    write("huge.csv", "a,b,label\n1,2,x\n1e39,4,y\n");
    write("one.csv", "a,b,label\n1,2,x\n3,4,x\n");
    write("onlylabel.csv", "label\nx\ny\n");
    write("nolabel.csv", "a,b,label\n1,2,x\n3,4,\n");
  });

  const usage: [string, string[], RegExp][] = [
    ["no data file", ["train", "--label", "label"], /missing DATA\.csv/],
    ["two data files", ["train", "ok.csv", "ok.csv", "--label", "label"], /unexpected argument "ok\.csv"/],
    ["unknown option", ["train", "ok.csv", "--label", "label", "--bogus"], /unknown option --bogus/],
    ["option without value", ["train", "ok.csv", "--label"], /option --label needs a value/],
    ["flag with a value", ["train", "ok.csv", "--label", "label", "--quiet=yes"], /--quiet takes no value/],
    [
      "bad --lr",
      ["train", "ok.csv", "--label", "label", "--lr", "fast"],
      /--lr must be a number > 0; got "fast"/,
    ],
    ["negative --lr", ["train", "ok.csv", "--label", "label", "--lr=-1"], /--lr must be a number > 0/],
    [
      "--epochs 0",
      ["train", "ok.csv", "--label", "label", "--epochs", "0"],
      /--epochs must be an integer >= 1/,
    ],
    [
      "--batch-size 1.5",
      ["train", "ok.csv", "--label", "label", "--batch-size", "1.5"],
      /--batch-size must be/,
    ],
    ["--seed -1", ["train", "ok.csv", "--label", "label", "--seed=-1"], /--seed must be an integer >= 0/],
    [
      "--validation 1",
      ["train", "ok.csv", "--label", "label", "--validation", "1"],
      /--validation must be a fraction/,
    ],
    [
      "--model",
      ["train", "ok.csv", "--label", "label", "--model", "svm"],
      /--model must be one of softmax, mlp/,
    ],
    [
      "--loss",
      ["train", "ok.csv", "--label", "label", "--loss", "hinge"],
      /--loss must be one of kl, cross-entropy/,
    ],
    [
      "--optimizer",
      ["train", "ok.csv", "--label", "label", "--optimizer", "lbfgs"],
      /--optimizer must be one of/,
    ],
    [
      "--hidden",
      ["train", "ok.csv", "--label", "label", "--hidden", "64,x"],
      /--hidden must be positive layer widths/,
    ],
    [
      "--hidden, softmax",
      ["train", "ok.csv", "--label", "label", "--model", "softmax", "--hidden", "4"],
      /applies to --model mlp/,
    ],
    [
      "--scale",
      ["train", "ok.csv", "--label", "label", "--scale", "minmax"],
      /--scale must be one of standard, none/,
    ],
    [
      "--out folder",
      ["train", "ok.csv", "--label", "label", "--out", "nowhere/m.json"],
      /the directory "nowhere" does not exist/,
    ],
    ["predict, one file", ["predict", "m.json"], /missing DATA\.csv/],
    ["predict, option", ["predict", "m.json", "ok.csv", "--label", "x"], /unknown option --label/],
    ["evaluate, no files", ["evaluate"], /missing MODEL\.json and DATA\.csv/],
    [
      "compare-losses --task",
      ["compare-losses", "--task", "mnist"],
      /--task must be one of zipf, digits, all/,
    ],
    ["compare-losses --seeds", ["compare-losses", "--seeds", "0"], /--seeds must be an integer >= 1/],
    ["bench", ["bench", "--fast"], /unknown option --fast/],
  ];
  it.each(usage)("usage: %s -> exit code 2", (_, args, message) => {
    const r = klcore(...args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/Run 'klcore \S+ --help'/);
    expect(r.stdout).toBe("");
  });

  const data: [string, string, string[], RegExp][] = [
    ["a missing file", "none.csv", [], /cannot read none\.csv: no such file/],
    ["a folder", ".", [], /cannot read \.: it is a directory/],
    ["an empty file", "empty.csv", [], /empty\.csv: the file is empty/],
    ["a header only", "header.csv", [], /header\.csv: no data rows after the header \(line 1\)/],
    ["a non-numeric cell", "text.csv", [], /text\.csv:3: column 2 \("b"\): "oops" is not a number/],
    ["an empty cell", "blank.csv", [], /blank\.csv:3: column 2 \("b"\): an empty cell is not a number/],
    [
      "a short row",
      "ragged.csv",
      [],
      /ragged\.csv:4: 2 cells, but the header \(line 1\) has 3 columns: column 3 \("label"\) is missing/,
    ],
    ["a long row", "long.csv", [], /long\.csv:2: 4 cells, .*column 4 has no name/],
    ["an unclosed quote", "quote.csv", [], /quote\.csv:3: not valid CSV: Quote Not Closed/],
    ["a repeated column", "dup.csv", [], /dup\.csv:1: column 2 \("a"\): the header repeats column 1/],
    [
      "a value beyond float32",
      "huge.csv",
      [],
      /huge\.csv:3: column 1 \("a"\): "1e39" is beyond the float32 range/,
    ],
    [
      "a missing label column",
      "ok.csv",
      ["--label", "kind"],
      /ok\.csv:1: no column "kind" \(--label\) in the header; the columns are a, b, label/,
    ],
    ["an empty label", "nolabel.csv", [], /nolabel\.csv:3: column 3 \("label"\): the label is empty/],
    ["a single label", "one.csv", [], /every row has the label "x".* at least two labels/],
    ["no feature column", "onlylabel.csv", [], /no feature columns/],
    [
      "a hold-out of no row",
      "ok.csv",
      ["--validation", "0.1"],
      /--validation 0\.1 of 4 rows leaves no row to hold out/,
    ],
    [
      "divergence",
      "ok.csv",
      ["--validation", "0", "--optimizer", "sgd", "--lr", "1e38"],
      /training diverged at epoch \d+, batch \d+ .*no model written/,
    ],
  ];
  it.each(data)("train on %s: exit code 1, and no model written", (_, file, extra, message) => {
    const args = extra.includes("--label") ? extra : ["--label", "label", ...extra];
    const r = klcore("train", file, ...args, "--epochs", "3", "--out", "failed.json");
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(existsSync(join(dir, "failed.json"))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("compare-losses reports a bad digits file's lines too", () => {
    write("baddigits.csv", "pixel0,label\n1,0\nx,1\n2,\n");
    const r = klcore(
      "compare-losses",
      "--task",
      "digits",
      "--quick",
      "--digits",
      "baddigits.csv",
      "--out",
      "cmp",
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /baddigits\.csv: 2 bad lines:\n.*:3: column 1 \("pixel0"\): "x" is not a number.*\n.*:4: column 2 \("label"\): the label is empty/,
    );
  });

  it("an existing model file is left as it was when training fails", () => {
    write("keep.json", "{}\n");
    expect(klcore("train", "text.csv", "--label", "label", "--out", "keep.json").code).toBe(1);
    expect(readFileSync(join(dir, "keep.json"), "utf8")).toBe("{}\n");
  });

  it("predict and evaluate: bad model files, missing features, unseen labels, bad cells -> exit code 1", () => {
    expect(
      klcore("train", "ok.csv", "--label", "label", "--validation", "0", "--epochs", "1", "--out", "ab.json")
        .code,
    ).toBe(0);
    write("nofeature.csv", "a,label\n1,x\n");
    write("unseen.csv", "b,a,label\n2,1,x\n4,3,y\n6,5,z\n");
    write("notjson.json", "not json");
    write("other.json", '{"format":"klcore-model"}');
    const broken = JSON.parse(readFileSync(join(dir, "ab.json"), "utf8"));
    broken.labels = ["x"];
    write("broken.json", JSON.stringify(broken));
    const cases: [string[], RegExp][] = [
      [["predict", "none.json", "ok.csv"], /cannot read none\.json: no such file/],
      [
        ["predict", "notjson.json", "ok.csv"],
        /notjson\.json: not a model written by 'klcore train': not JSON/,
      ],
      [["predict", "other.json", "ok.csv"], /other\.json: not a model written by 'klcore train'/],
      [
        ["evaluate", "broken.json", "ok.csv"],
        /broken\.json: .*2 classes, but the file names 2 features and 1 labels/,
      ],
      [["predict", "ab.json", "nofeature.csv"], /nofeature\.csv:1: no column "b" \(a feature of the model\)/],
      [["predict", "ab.json", "text.csv"], /text\.csv:3: column 2 \("b"\): "oops" is not a number/],
      [["predict", "ab.json", "ragged.csv"], /ragged\.csv:4: 2 cells/],
      [["predict", "ab.json", "empty.csv"], /empty\.csv: the file is empty/],
      [
        ["evaluate", "ab.json", "unseen.csv"],
        /unseen\.csv:4: column 3 \("label"\): the label "z" was never seen in training \(the model knows "x", "y"\)/,
      ],
      [
        ["evaluate", "ab.json", "ok.csv", "--label", "b"],
        /ok\.csv:2: column 2 \("b"\): the label "2" was never seen in training/,
      ],
      [
        ["evaluate", "ab.json", "nofeature.csv", "--label", "missing"],
        /nofeature\.csv:1: no column "missing" \(--label\)/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = klcore(...args);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe("");
    }
  });
});

describe("bundles", () => {
  it("the library's bundles carry none of the command line's dependencies; dist/cli.js imports the library by name", () => {
    for (const bundle of ["klcore.browser.js", "index.js", "index.cjs"]) {
      const text = readFileSync(join(root, "dist", bundle), "utf8");
      expect(text, bundle).not.toMatch(/csv-parse|vega|parseArgs|loss-comparison/);
    }
    const cliText = readFileSync(cli, "utf8");
    expect(cliText.startsWith("#!/usr/bin/env node\n")).toBe(true);
    expect(cliText).toMatch(/from "klcore"/);
    expect(cliText).toMatch(/from "csv-parse\/sync"/);
    expect(cliText).toMatch(/import\("vega"\)/);
    // The library itself (its wasm loader and kernels' wrappers) is not in the command line's bundle.
    expect(cliText).not.toMatch(/WebAssembly\.(instantiate|Module)/);
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      bin: Record<string, string>;
    };
    expect(pkg.bin).toEqual({ klcore: "./dist/cli.js" });
  });
});
