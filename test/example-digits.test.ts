// The main job (`npm start` runs examples/train-digits.mjs): softmax regression and an MLP trained
// on the embedded digits by minimising KL. Run as a user would, in a child process; the MLP must
// reach the 95% held-out accuracy, every epoch must print its metrics, and a second run must
// print the same numbers (everything is seeded), bar the times.
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const run = (): string =>
  execFileSync(process.execPath, ["examples/train-digits.mjs"], { cwd: root, encoding: "utf8" });

const withoutTimes = (out: string): string =>
  out.replace(/\d+\.\d+ ms/g, "t ms").replace(/\d+\.\d+ s,/g, "t s,");

describe("examples/train-digits.mjs", () => {
  const out = run();

  it("reaches at least 95% held-out accuracy with the MLP, and reports both models", () => {
    const summary = /held-out accuracy: softmax regression ([\d.]+)%, MLP ([\d.]+)%/.exec(out);
    expect(summary, out).not.toBeNull();
    const [linear, deep] = [Number(summary![1]), Number(summary![2])];
    expect(deep).toBeGreaterThanOrEqual(95);
    expect(linear).toBeGreaterThan(80);
    expect(linear).toBeLessThanOrEqual(100);
  });

  it("prints loss, KL and accuracy for every epoch of both models", () => {
    const epochs = [...out.matchAll(/epoch +(\d+) +loss ([\d.]+) +KL ([\d.]+) +acc +([\d.]+)%/g)];
    expect(epochs.length).toBe(30 + 40);
    for (const [, , loss, klValue] of epochs) {
      // On class labels the KL to the one-hot targets is the cross-entropy: the loss itself.
      expect(Number(loss)).toBe(Number(klValue));
      expect(Number(loss)).toBeGreaterThan(0);
    }
    // Training lowers the loss.
    expect(Number(epochs[29]![2])).toBeLessThan(Number(epochs[0]![2]));
    expect(Number(epochs[69]![2])).toBeLessThan(Number(epochs[30]![2]));
  });

  it("is reproducible: a second run prints the same figures", () => {
    expect(withoutTimes(run())).toBe(withoutTimes(out));
  });
});
