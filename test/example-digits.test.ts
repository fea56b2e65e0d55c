// The main job, `npm start`: after the build it runs examples/start.mjs, which runs `klcore train`
// (cli/dist/cli.js) twice on the embedded digits, softmax regression then an MLP, both minimising KL.
// Run as a user would, in a child process: the MLP must reach the 95% held-out accuracy,
// every epoch must print its loss, KL and accuracy, each model its held-out accuracy and time, and a
// second run must print the same numbers (everything is seeded), bar the times. The library-API
// version of the same training (examples/train-digits.mjs) must keep working too.
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const node = (script: string): string =>
  execFileSync(process.execPath, [script], { cwd: root, encoding: "utf8" });

const withoutTimes = (out: string): string => out.replace(/\d+\.\d+ m?s\b/g, "T");

describe("npm start (examples/start.mjs: klcore train on the digits)", () => {
  const pkg = JSON.parse(readFileSync(`${root}package.json`, "utf8")) as { scripts: { start: string } };
  const out = node("examples/start.mjs");

  it("is what npm start runs after the build", () => {
    expect(pkg.scripts.start).toBe("npm run build --silent && node examples/start.mjs");
  });

  it("reaches at least 95% held-out accuracy with the MLP, and reports both models", () => {
    const summary =
      /held-out accuracy: softmax regression ([\d.]+)% \(\d+\/359\), MLP ([\d.]+)% \(\d+\/359\)/.exec(out);
    expect(summary, out).not.toBeNull();
    const [linear, deep] = [Number(summary![1]), Number(summary![2])];
    expect(deep).toBeGreaterThanOrEqual(95);
    expect(linear).toBeGreaterThan(80);
    expect(linear).toBeLessThanOrEqual(100);
    // Each run's own summary: its held-out accuracy and the time training took.
    expect(out).toMatch(/trained softmax regression 64-10 in [\d.]+ m?s \(30 epochs, completed\)/);
    expect(out).toMatch(/trained MLP 64-64-10 \(relu\) in [\d.]+ m?s \(40 epochs, completed\)/);
    expect(out.match(/held-out rows: +loss [\d.]+ +KL [\d.]+ +accuracy [\d.]+% \(\d+\/359\)/g)).toHaveLength(
      2,
    );
  });

  it("prints loss, KL and accuracy, training and held-out, for every epoch of both models", () => {
    const epochs = [
      ...out.matchAll(/^epoch +(\d+)\/\d+ +loss ([\d.]+) +KL ([\d.]+) +acc +([\d.]+)% +\| +held-out loss/gm),
    ];
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
    expect(withoutTimes(node("examples/start.mjs"))).toBe(withoutTimes(out));
  });
});

describe("examples/train-digits.mjs (the same training through the library's API)", () => {
  it("trains both models, the MLP to at least 95% held-out accuracy", () => {
    const summary = /held-out accuracy: softmax regression ([\d.]+)%, MLP ([\d.]+)%/.exec(
      node("examples/train-digits.mjs"),
    );
    expect(summary).not.toBeNull();
    expect(Number(summary![2])).toBeGreaterThanOrEqual(95);
  });
});
