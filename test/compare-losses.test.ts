// `klcore compare-losses` on its tiny setting (--quick), run as users run it (node cli/dist/cli.js):
// the four files are written; the SVG is well-formed, with one line per loss in every panel, a
// legend and axis titles; the JSON holds every curve, the settings, the seeds and the versions; and
// a rerun with the same seeds writes the same numbers (the wall times aside).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = join(root, "cli", "dist", "cli.js");
const LOSSES = ["KL (cross-entropy)", "MSE", "L1", "Jensen-Shannon"];
const FILES = ["md", "json", "svg", "vl.json"].map((e) => `loss-comparison.${e}`);
let dir = "";

function run(out: string, ...extra: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, "compare-losses", "--quick", "--out", out, ...extra], {
    cwd: dir,
    encoding: "utf8",
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const read = (out: string, file: string): string => readFileSync(join(dir, out, file), "utf8");

/** Throws unless the text is one well-formed XML element: every tag closed, in order. */
function checkXml(text: string): string {
  const open: string[] = [];
  let rootName = "";
  for (const m of text.matchAll(/<(\/?)([A-Za-z][\w:-]*)([^>]*?)(\/?)>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>/g)) {
    const [, closing, name, attributes, selfClosing] = m;
    if (name === undefined) continue;
    if (!/^(\s+[\w:-]+="[^"<]*")*\s*$/.test(attributes!))
      throw new Error(`bad attributes in <${name}${attributes}>`);
    if (closing) {
      const top = open.pop();
      if (top !== name) throw new Error(`</${name}> closes <${top}>`);
    } else if (!selfClosing) {
      if (!rootName) rootName = name;
      else if (open.length === 0) throw new Error("more than one root element");
      open.push(name);
    }
  }
  if (open.length) throw new Error(`unclosed <${open.join("> <")}>`);
  // Text between tags holds no stray markup characters.
  if (/>[^<]*[&][^#a-z][^<]*</.test(text)) throw new Error("unescaped &");
  return rootName;
}

/** Removes every timing from the JSON: the only figures a rerun may change. */
function withoutTimes(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutTimes);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k]) => !/timeMs$/i.test(k))
        .map(([k, x]) => [k, withoutTimes(x)]),
    );
  }
  return v;
}

const mdWithoutTimes = (md: string): string => md.replace(/\d+(\.\d+)? (ms|s)\b/g, "T");

beforeAll(() => {
  if (!existsSync(cli)) throw new Error("cli/dist/cli.js is missing: run `npm run build` first");
  dir = mkdtempSync(join(tmpdir(), "klcore-compare-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("klcore compare-losses --quick", () => {
  let first: ReturnType<typeof run>;
  beforeAll(() => {
    first = run("a");
  });

  it("writes the table, the JSON, the SVG and the vega-lite spec, and prints a summary", () => {
    expect(first.code, first.stderr).toBe(0);
    for (const f of FILES) expect(existsSync(join(dir, "a", f)), f).toBe(true);
    expect(first.stdout).toMatch(/loss comparison \(klcore compare-losses --task all --seeds 2 --quick\)/);
    for (const loss of LOSSES) expect(first.stdout).toContain(loss);
    // Progress goes to stderr: every task and loss, with the rates tried and the one chosen.
    expect(first.stderr).toMatch(/zipf-sgd: kl rates 3, 30: final KL .*; chose (3|30)/);
    expect(first.stderr).toMatch(/digits-mlp: 2 seeds x 4 losses done/);
  });

  it("the SVG is well-formed, with one line per loss in each of the four panels, a legend and axis titles", () => {
    const svg = read("a", "loss-comparison.svg");
    expect(() => checkXml("<svg><g></svg>")).toThrow(/closes/);
    expect(() => checkXml('<svg><path d="M0"/><g>')).toThrow(/unclosed/);
    expect(checkXml(svg)).toBe("svg");
    const lines = [
      ...svg.matchAll(/<path aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="line mark"/g),
    ];
    const perLoss = new Map<string, number>();
    for (const [, label] of lines) {
      const loss = /loss optimised: ([^;"]+)/.exec(label!)?.[1];
      perLoss.set(loss!, (perLoss.get(loss!) ?? 0) + 1);
    }
    expect(Object.fromEntries(perLoss)).toEqual(Object.fromEntries(LOSSES.map((l) => [l, 4])));
    // The legend names every loss.
    const legend = /aria-roledescription="legend" aria-label="([^"]*)"/.exec(svg)?.[1];
    expect(legend).toMatch(
      /titled 'loss optimised'.* 4 values: KL \(cross-entropy\), MSE, L1, Jensen-Shannon/,
    );
    const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    for (const title of [
      "optimiser step",
      "epoch",
      "KL(target || model), nats (log scale)",
      "loss optimised",
    ]) {
      expect(texts).toContain(title);
    }
    for (const title of ["Zipf target, 50 classes, SGD", "Zipf target, 50 classes, Adam"])
      expect(texts).toContain(title);
    // The y scale is logarithmic: the threshold rule and the lines share it, and tick labels are powers of ten.
    const spec = JSON.parse(read("a", "loss-comparison.vl.json"));
    expect(spec.concat).toHaveLength(4);
    for (const panel of spec.concat) expect(panel.layer[0].encoding.y.scale.type).toBe("log");
  });

  it("the JSON holds every curve, the settings, the seeds and the versions", () => {
    const json = JSON.parse(read("a", "loss-comparison.json"));
    expect(json.format).toBe("klcore-loss-comparison");
    expect(json.command).toBe("klcore compare-losses --task all --seeds 2 --quick");
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    const cliPkg = JSON.parse(readFileSync(join(root, "cli", "package.json"), "utf8"));
    expect(json.versions).toEqual({
      klcore: pkg.version,
      build: expect.stringMatching(/^(simd|scalar)$/),
      node: process.version,
      vega: cliPkg.dependencies.vega,
      vegaLite: cliPkg.dependencies["vega-lite"],
    });
    expect(json.settings.seeds).toEqual([1, 2]);
    expect(json.settings.tuningSeed).toBe(0);
    expect(json.settings.zipf).toMatchObject({ classes: 50, exponent: 1, steps: 100, threshold: 0.01 });
    expect(json.settings.digits).toMatchObject({ epochs: 3, threshold: 0.2, grid: [1e-3, 1e-2] });
    expect(json.settings.losses.map((l: { id: string }) => l.id)).toEqual(["kl", "mse", "l1", "js"]);
    expect(json.tasks.map((t: { id: string }) => t.id)).toEqual([
      "zipf-sgd",
      "zipf-adam",
      "digits-softmax",
      "digits-mlp",
    ]);
    for (const t of json.tasks) {
      const zipf = t.id.startsWith("zipf");
      // Every rate of the grid for every loss, then the runs at the chosen rates.
      expect(t.tuning).toHaveLength(4 * t.grid.length);
      expect(t.runs).toHaveLength(zipf ? 4 : 4 * 2);
      for (const loss of ["kl", "mse", "l1", "js"]) expect(t.grid).toContain(t.chosen[loss]);
      for (const r of [...t.tuning, ...t.runs]) {
        const last = zipf ? 100 : 3;
        expect(r.curve.x[0]).toBe(0);
        expect(r.curve.x.at(-1)).toBe(last);
        expect(r.curve.kl).toHaveLength(r.curve.x.length);
        expect(r.curve.kl.every((v: unknown) => typeof v === "number" && Number.isFinite(v) && v >= 0)).toBe(
          true,
        );
        // Curves keep 6 significant digits; the final figures all of theirs.
        expect(r.curve.kl.at(-1)).toBe(Number(r.finalKl.toPrecision(6)));
        expect(typeof r.timeMs).toBe("number");
        if (zipf) {
          expect(r.seed).toBeNull();
          expect(r.curve.x).toHaveLength(100 / 5 + 1);
        } else {
          expect(r.curve.accuracy).toHaveLength(r.curve.x.length);
          expect(r.accuracy).toBe(r.curve.accuracy.at(-1));
        }
      }
      if (!zipf) expect(t.runs.map((r: { seed: number }) => r.seed).sort()).toEqual([1, 1, 1, 1, 2, 2, 2, 2]);
      expect(t.summary.map((s: { name: string }) => s.name)).toEqual(LOSSES);
      for (const s of t.summary) {
        expect(s.learningRate).toBe(t.chosen[s.loss]);
        expect(s.finalKl.min).toBeLessThanOrEqual(s.finalKl.median);
        expect(s.finalKl.median).toBeLessThanOrEqual(s.finalKl.max);
      }
    }
    // The table reports the same figures.
    const md = read("a", "loss-comparison.md");
    expect(md).toContain(
      "![KL from the target to the model against step, a line per loss](loss-comparison.svg)",
    );
    for (const t of json.tasks) expect(md).toContain(`## ${t.title}`);
  });

  it("a rerun with the same seeds writes the same numbers; only the wall times differ", () => {
    const again = run("b");
    expect(again.code, again.stderr).toBe(0);
    expect(withoutTimes(JSON.parse(read("b", "loss-comparison.json")))).toEqual(
      withoutTimes(JSON.parse(read("a", "loss-comparison.json"))),
    );
    expect(mdWithoutTimes(read("b", "loss-comparison.md"))).toBe(
      mdWithoutTimes(read("a", "loss-comparison.md")),
    );
    expect(read("b", "loss-comparison.svg")).toBe(read("a", "loss-comparison.svg"));
    expect(read("b", "loss-comparison.vl.json")).toBe(read("a", "loss-comparison.vl.json"));
  });

  it("an --out folder that cannot be made: exit code 1, before any run", () => {
    const r = run("a/loss-comparison.md/inside");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /cannot write a\/loss-comparison\.md\/inside: a part of the path is a file, not a folder/,
    );
    expect(r.stderr).not.toMatch(/zipf-sgd/);
  });

  it("--task zipf runs only the Zipf panels, the same runs as in the whole comparison", () => {
    const zipf = run("z", "--task", "zipf");
    expect(zipf.code, zipf.stderr).toBe(0);
    const json = JSON.parse(read("z", "loss-comparison.json"));
    expect(json.tasks.map((t: { id: string }) => t.id)).toEqual(["zipf-sgd", "zipf-adam"]);
    expect(json.settings.digits).toBeUndefined();
    const svg = read("z", "loss-comparison.svg");
    expect(svg.match(/aria-roledescription="line mark"/g)).toHaveLength(2 * 4);
    // The Zipf runs are the same as in the full comparison.
    const all = JSON.parse(read("a", "loss-comparison.json"));
    expect(withoutTimes(json.tasks)).toEqual(withoutTimes(all.tasks.slice(0, 2)));
  });
});
