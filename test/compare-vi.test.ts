// `klcore compare-vi --quick`, run as users run it (node dist/cli.js): the four files are written,
// and their numbers say what the experiment is for, each against its quadrature reference or
// closed form: the ELBO's q is the same bits whatever normaliser is divided into ln p while the L2
// fit moves with it (and is exact only with the true p(x) on the conjugate Gaussian); the reverse
// KL settles on one mode of a bimodal target (KL near ln 2) while the forward KL's Gaussian matches
// the target's moments; mean-field's gap at rho 0.9 is the closed form's, full-rank's near 0. A
// rerun writes the same numbers (the wall time aside).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = join(root, "dist", "cli.js");
let dir = "";

interface Fit {
  method: string;
  factor: number | null;
  mean: number;
  sd: number;
  kl: number;
}
interface Result {
  command: string;
  normaliser: {
    target: string;
    posterior: { mean: number; sd: number };
    elboIdentical: boolean;
    fits: Fit[];
  }[];
  bimodal: {
    target: { variance: number };
    fits: { method: string; mean: number; sd: number; reverseKl: number }[];
  };
  families: {
    closedForm: { meanfieldSd: number; meanfieldGap: number };
    fits: {
      family: string;
      sd: number[];
      gap: number;
      elboStdErr: number;
      correlation: number;
      paretoK: number;
    }[];
  };
  totalTimeMs: number;
}

function run(out: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, "compare-vi", "--quick", "--out", out], {
    cwd: dir,
    encoding: "utf8",
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const read = (out: string, file: string): string => readFileSync(join(dir, out, file), "utf8");

describe("klcore compare-vi --quick", () => {
  let result: Result;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "klcore-compare-vi-"));
    const r = run("a");
    expect(r.code, r.stderr).toBe(0);
    result = JSON.parse(read("a", "vi-comparison.json")) as Result;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("writes the table, the JSON, the SVG and its vega-lite spec", () => {
    for (const e of ["md", "json", "svg", "vl.json"])
      expect(existsSync(join(dir, "a", `vi-comparison.${e}`))).toBe(true);
    expect(read("a", "vi-comparison.svg")).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    const md = read("a", "vi-comparison.md");
    expect(md).toContain("## 1. The unknown normaliser: ELBO against L2");
    expect(md).toContain("ELBO's q with every normaliser divided in: the same bits.");
    expect(result.command).toBe("klcore compare-vi --quick");
  });

  it("the ELBO needs no normaliser; the L2 fit depends on it", () => {
    for (const n of result.normaliser) {
      expect(n.elboIdentical, n.target).toBe(true);
      const l2 = n.fits.filter((f) => f.method === "L2");
      expect(l2.map((f) => f.factor)).toEqual([0.5, 0.9, 1, 1.1, 2]);
      // A p-hat too small makes the target taller, so q narrower; too large, wider.
      for (let i = 1; i < l2.length; i++) expect(l2[i]!.sd).toBeGreaterThan(l2[i - 1]!.sd);
      const exact = l2.find((f) => f.factor === 1)!;
      for (const f of l2) expect(f.kl).toBeGreaterThanOrEqual(exact.kl);
      const elbo = n.fits.find((f) => f.method === "ELBO")!;
      // The ELBO's q minimises KL(q || posterior): no L2 fit does better, even with the exact p(x).
      for (const f of l2) expect(elbo.kl).toBeLessThanOrEqual(f.kl + 1e-9);
    }
    const conj = result.normaliser.find((n) => n.target === "conjugate")!;
    // The family contains this posterior, N(1.5, 1/2): with the true p(x) the L2 fit finds it too.
    const exact = conj.fits.find((f) => f.factor === 1)!;
    expect(Math.abs(exact.mean - 1.5)).toBeLessThan(1e-6);
    expect(Math.abs(exact.sd - Math.SQRT1_2)).toBeLessThan(1e-6);
    const elbo = conj.fits[0]!;
    expect(Math.abs(elbo.sd - Math.SQRT1_2)).toBeLessThan(1e-6);
    expect(conj.fits.find((f) => f.factor === 2)!.kl).toBeGreaterThan(0.5);
  });

  it("reverse KL settles on a mode; forward KL covers both", () => {
    const [near, wide, forward] = result.bimodal.fits;
    expect(Math.abs(near!.mean - 2)).toBeLessThan(0.05);
    expect(Math.abs(near!.sd - 0.6)).toBeLessThan(0.02);
    expect(Math.abs(near!.reverseKl - Math.LN2)).toBeLessThan(0.01);
    // From a wide start between the modes: a broad local optimum, worse than a mode.
    expect(wide!.reverseKl).toBeGreaterThan(near!.reverseKl);
    expect(forward!.mean).toBe(0);
    expect(forward!.sd).toBe(Math.sqrt(result.bimodal.target.variance));
    expect(forward!.reverseKl).toBeGreaterThan(near!.reverseKl);
  });

  it("mean-field's gap at rho 0.9 is the closed form's; full-rank's is near 0", () => {
    const { closedForm, fits } = result.families;
    const [mf, fr] = fits;
    expect(closedForm.meanfieldGap).toBeCloseTo(0.8304, 4);
    expect(Math.abs(mf!.gap - closedForm.meanfieldGap)).toBeLessThan(5 * mf!.elboStdErr + 0.01);
    for (const s of mf!.sd) expect(Math.abs(s / closedForm.meanfieldSd - 1)).toBeLessThan(0.05);
    expect(Math.abs(fr!.gap)).toBeLessThan(5 * fr!.elboStdErr + 0.01);
    expect(Math.abs(fr!.correlation - 0.9)).toBeLessThan(0.01);
    expect(fr!.paretoK).toBeLessThan(mf!.paretoK);
  });

  it("a rerun writes the same numbers", () => {
    const r = run("b");
    expect(r.code, r.stderr).toBe(0);
    const again = JSON.parse(read("b", "vi-comparison.json")) as Result;
    expect({ ...again, totalTimeMs: 0 }).toEqual({ ...result, totalTimeMs: 0 });
    expect(read("b", "vi-comparison.vl.json")).toBe(read("a", "vi-comparison.vl.json"));
  });
});
