// data/digits.csv: the UCI optical handwritten digits test set (1797 8x8 images, labels 0..9) as
// extracted by scripts/data/extract-digits.py. The header, the shape, integer fields, the value
// ranges, the rows per label, and the SHA-256 recorded in data/README.md. The same for
// data/breast-cancer.csv (scripts/data/extract-breast-cancer.py): 569 rows of 30 features and the
// diagnosis, and the standardisation the logistic regression reference records for it.
import { describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadBreastCancer, loadViLogregReference } from "./helpers/breast-cancer.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const bytes = readFileSync(`${root}data/digits.csv`);
const text = bytes.toString("ascii");
const readme = readFileSync(`${root}data/README.md`, "utf8");

const N_ROWS = 1797;
const N_PIXELS = 64;
/** Rows per label 0..9, as sklearn.datasets.load_digits gives them. */
const LABEL_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180];
const SHA256 = "4e05898f3518c4cd28415fd6beb95895c9e54038b4295396e8a85f8183ddc9f6";

const lines = text.split("\n");
const header = lines[0]!;
const rows = lines.slice(1, -1);

/** Parses a row of plain non-negative decimal integers; throws on anything else. */
function parseRow(line: string, index: number): number[] {
  return line.split(",").map((field) => {
    if (!/^(0|[1-9][0-9]*)$/.test(field)) throw new Error(`row ${index + 1}: field ${JSON.stringify(field)}`);
    return Number(field);
  });
}

describe("data/digits.csv", () => {
  it("is ASCII with \\n line ends and a final newline, no carriage returns", () => {
    expect([...bytes].every((b) => b < 0x80)).toBe(true);
    expect(text.includes("\r")).toBe(false);
    expect(text.endsWith("\n")).toBe(true);
    expect(lines.at(-1)).toBe("");
  });

  it("has the header pixel0,...,pixel63,label", () => {
    const expected = [...Array.from({ length: N_PIXELS }, (_, i) => `pixel${i}`), "label"].join(",");
    expect(header).toBe(expected);
  });

  it("has 1797 rows of 65 integer columns, pixels in 0..16 and labels in 0..9", () => {
    expect(rows).toHaveLength(N_ROWS);
    rows.forEach((line, i) => {
      const values = parseRow(line, i);
      expect(values, `row ${i + 1}`).toHaveLength(N_PIXELS + 1);
      for (let j = 0; j < N_PIXELS; j++) {
        const v = values[j]!;
        if (!(Number.isInteger(v) && v >= 0 && v <= 16)) expect.fail(`row ${i + 1}, pixel${j}: ${v}`);
      }
      const label = values[N_PIXELS]!;
      if (!(Number.isInteger(label) && label >= 0 && label <= 9))
        expect.fail(`row ${i + 1}, label: ${label}`);
    });
  });

  it("has the per-label counts that load_digits gives", () => {
    const counts = new Array<number>(10).fill(0);
    rows.forEach((line, i) => {
      const label = parseRow(line, i)[N_PIXELS]!;
      counts[label]!++;
    });
    expect(counts).toEqual(LABEL_COUNTS);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(N_ROWS);
  });

  it("uses the full pixel range: both 0 and 16 occur, and every image has ink", () => {
    let min = Infinity;
    let max = -Infinity;
    for (const [i, line] of rows.entries()) {
      for (const v of parseRow(line, i).slice(0, N_PIXELS)) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
    }
    expect(min).toBe(0);
    expect(max).toBe(16);
    rows.forEach((line, i) => {
      const sum = parseRow(line, i)
        .slice(0, N_PIXELS)
        .reduce((a, b) => a + b, 0);
      expect(sum, `row ${i + 1}`).toBeGreaterThan(0);
    });
  });

  it("has the SHA-256 recorded in data/README.md", () => {
    const digest = createHash("sha256").update(bytes).digest("hex");
    expect(digest).toBe(SHA256);
    expect(readme).toContain(SHA256);
  });
});

describe("data/breast-cancer.csv", () => {
  const cancerBytes = readFileSync(`${root}data/breast-cancer.csv`);
  const cancerText = cancerBytes.toString("ascii");
  const cancerLines = cancerText.split("\n");
  const cancerRows = cancerLines.slice(1, -1);
  const KINDS = ["mean_%", "%_error", "worst_%"];
  const MEASURES = [
    "radius",
    "texture",
    "perimeter",
    "area",
    "smoothness",
    "compactness",
    "concavity",
    "concave_points",
    "symmetry",
    "fractal_dimension",
  ];
  const CANCER_SHA256 = "9173fe82f7401ba1007c73f4888db17fb6ce4683795c8ec95814ac4e4ce2410d";

  it("is ASCII with \\n line ends and a final newline", () => {
    expect([...cancerBytes].every((b) => b < 0x80)).toBe(true);
    expect(cancerText.includes("\r")).toBe(false);
    expect(cancerLines.at(-1)).toBe("");
  });

  it("has scikit-learn's 30 feature names in order, then benign", () => {
    const names = KINDS.flatMap((k) => MEASURES.map((m) => k.replace("%", m)));
    expect(cancerLines[0]).toBe([...names, "benign"].join(","));
  });

  it("has 569 rows of 30 plain non-negative decimals and a 0/1 label: 212 malignant, 357 benign", () => {
    expect(cancerRows).toHaveLength(569);
    const counts = [0, 0];
    cancerRows.forEach((line, i) => {
      const fields = line.split(",");
      expect(fields, `row ${i + 1}`).toHaveLength(31);
      for (const f of fields.slice(0, 30))
        if (!/^[0-9]+(\.[0-9]+)?$/.test(f)) expect.fail(`row ${i + 1}: ${f}`);
      const label = fields[30]!;
      if (label !== "0" && label !== "1") expect.fail(`row ${i + 1}, benign: ${label}`);
      counts[Number(label)]!++;
    });
    expect(counts).toEqual([212, 357]);
  });

  it("has the SHA-256 recorded in data/README.md and in the logistic regression reference", () => {
    const digest = createHash("sha256").update(cancerBytes).digest("hex");
    expect(digest).toBe(CANCER_SHA256);
    expect(readme).toContain(CANCER_SHA256);
    expect(loadViLogregReference().data.sha256).toBe(CANCER_SHA256);
  });

  it("the reference's recorded means and sds are the columns' float64 mean and population sd", () => {
    const { data } = loadViLogregReference();
    const { x, rows, dim } = loadBreastCancer();
    expect(rows).toBe(569);
    expect(dim).toBe(31);
    for (let j = 0; j < 30; j++) {
      // Recomputed here from the text with compensated sums; the script used NumPy's pairwise ones.
      let s = 0,
        c = 0;
      const values = cancerRows.map((l) => Number(l.split(",")[j]));
      for (const v of values) {
        const t = s + v;
        c += Math.abs(s) >= Math.abs(v) ? s - t + v : v - t + s;
        s = t;
      }
      const mean = (s + c) / rows;
      const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / rows;
      expect(Math.abs(data.featureMean[j]! - mean) / mean, `mean ${j}`).toBeLessThan(1e-13);
      expect(
        Math.abs(data.featureSd[j]! - Math.sqrt(variance)) / Math.sqrt(variance),
        `sd ${j}`,
      ).toBeLessThan(1e-12);
      // The standardised column has mean 0 and population sd 1.
      let m = 0,
        q = 0;
      for (let i = 0; i < rows; i++) m += x[i * dim + 1 + j]! / rows;
      for (let i = 0; i < rows; i++) q += (x[i * dim + 1 + j]! - m) ** 2 / rows;
      expect(Math.abs(m), `standardised mean ${j}`).toBeLessThan(1e-13);
      expect(Math.abs(q - 1), `standardised variance ${j}`).toBeLessThan(1e-12);
    }
    for (let i = 0; i < rows; i++) expect(x[i * dim]).toBe(1);
  });
});
