// examples/eight-schools.mjs, run as a user would (a child process on dist/): its table against the
// quadrature reference, the diagnostics' lines, and the same output on a second run (all seeded).
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const run = (): string =>
  execFileSync(process.execPath, ["examples/eight-schools.mjs"], { cwd: root, encoding: "utf8" });

/** The table's row as [mean, sd] pairs: reference, meanfield, meanfield + PSIS, fullrank, fullrank + PSIS. */
function row(out: string, name: string): [number, number][] {
  const line = out.split("\n").find((l) => l.startsWith(name.padEnd(8)));
  expect(line, out).toBeDefined();
  return [...line!.matchAll(/(-?[\d.]+) ± ([\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
}

describe("examples/eight-schools.mjs", () => {
  const out = run();

  it("prints the reference and both families, with and without PSIS weights", () => {
    const logTau = row(out, "ln tau");
    expect(logTau).toHaveLength(5);
    expect(logTau[0]).toEqual([0.8, 1.17]);
    for (const i of [1, 3]) {
      // q's own sd is too small (the funnel); PSIS's weights move it toward the reference.
      expect(logTau[i]![1]).toBeLessThan(0.8);
      expect(Math.abs(logTau[i + 1]![1] - 1.17)).toBeLessThan(Math.abs(logTau[i]![1] - 1.17));
    }
    const mu = row(out, "mu");
    for (const [m, s] of mu.slice(1)) {
      expect(Math.abs(m - 4.4)).toBeLessThan(0.3);
      expect(Math.abs(s - 3.32)).toBeLessThan(0.3);
    }
  });

  it("states each fit's ELBO, ln p(y) estimate and Pareto k with its reading", () => {
    for (const family of ["meanfield", "fullrank"]) {
      expect(out).toMatch(
        new RegExp(
          `${family}: completed after 8000 steps; ELBO -3\\d\\.\\d+ ± 0\\.\\d+, importance-weighted ln p\\(y\\) ` +
            `-3\\d\\.\\d+ \\(reference -31\\.3113\\); Pareto k \\d\\.\\d\\d \\((good|usable with care|do not trust q)\\)`,
        ),
      );
    }
  });

  it("prints the same on a second run", () => {
    expect(run()).toBe(out);
  });
});
