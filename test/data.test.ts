// data/digits.csv: the UCI optical handwritten digits test set (1797 8x8 images, labels 0..9) as
// extracted by scripts/extract-digits.py. The header, the shape, integer fields, the value
// ranges, the rows per label, and the SHA-256 recorded in data/README.md.
import { describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

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
