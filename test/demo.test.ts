// The demo page (demo/) in headless Chromium, driven by playwright-core with the system's Chromium
// as test/browser.test.ts does: built with demo/build.mjs into a temporary folder and served by
// demo/serve.mjs on a free port, with the headers a host must send (a strict Content-Security-Policy,
// cross-origin isolation). It checks that the page loads with no console error under that policy,
// that play makes the charted KL fall (to Node's own numbers, bit for bit), that pause and step
// act, that a held-out digit drawn on the canvas with pointer events after training is classified
// as its class, that the VI panel's q reaches the correlated Gaussian's known moments, that the URL
// reproduces a run, and that the page's own timer keeps firing while the workers train.
//
// Without Chromium (CHROMIUM_PATH, default /usr/bin/chromium) the test is skipped with a warning,
// unless KLCORE_REQUIRE_BROWSER=1 (CI), where a missing Chromium fails.

import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adam, categorical, cosineSchedule, fit, fitVI, targets, type LossName } from "../dist/index.js";
import { CHROMIUM, FLAGS } from "../bench/browser/chromium.mjs";
import { buildDemo, HEADERS } from "../demo/build.mjs";
import { drawPixels } from "../demo/drive.mjs";
import { serveDemo } from "../demo/serve.mjs";
import { TUNED } from "../demo/src/tuned.js";
import { GAUSSIAN, START, target2D } from "../demo/src/targets.js";

const hasChromium = existsSync(CHROMIUM);
const requireBrowser = process.env.KLCORE_REQUIRE_BROWSER === "1";
const CSP = "script-src 'self' 'wasm-unsafe-eval'";

if (!hasChromium && !requireBrowser) {
  console.warn(`demo test skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`);
}

if (!hasChromium && requireBrowser) {
  describe("demo page", () => {
    it("needs Chromium (KLCORE_REQUIRE_BROWSER=1)", () => {
      throw new Error(
        `KLCORE_REQUIRE_BROWSER=1 but no Chromium at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH`,
      );
    });
  });
}

/** What the page exposes as globalThis.klcoreDemo (demo/src/main.ts). */
interface Exposed {
  ticks: number[];
  kl: { x: number[]; values: (number | null)[][]; rates: number[] };
  digits: {
    epochs: { epoch: number; loss: number; accuracy: number; valKl: number; valAccuracy: number }[];
    heldOut: number[];
  };
  vi: {
    frames: {
      step: number;
      mean: number[];
      covariance: number[];
      other: { mean: number[]; covariance: number[] };
    }[];
    objective: number[];
    otherObjective: number[];
  };
}

const digits = readFileSync(new URL("../data/digits.csv", import.meta.url), "utf8")
  .trim()
  .split("\n")
  .slice(1)
  .map((line) => line.split(",").map(Number));

/** Node's side of the Why-KL panel: the KL before each of the first `steps` steps, per loss. */
async function nodeZipf(optimizer: "sgd" | "adam", steps: number): Promise<number[][]> {
  const p = Float64Array.from({ length: 1000 }, (_, k) => 1 / (k + 1));
  const sum = p.reduce((a, b) => a + b, 0);
  const target = p.map((v) => v / sum);
  const rates = TUNED[`zipf-${optimizer}`];
  const out: number[][] = [];
  for (const loss of ["kl", "mse", "l1", "js"] as LossName[]) {
    const kls: number[] = [];
    const model = categorical({ classes: 1000 });
    await fit(
      model,
      { y: target },
      {
        loss,
        optimizer,
        learningRate: rates[loss as keyof typeof rates],
        epochs: 2000,
        batchSize: 1,
        shuffle: false,
        onEpoch: (e) => kls.push(e.kl) < steps,
      },
    );
    model.dispose();
    out.push(kls);
  }
  return out;
}

describe("demo settings", () => {
  // The VI panel draws q after n steps from a fresh fitVI run of n steps: it must be where the longer
  // run passes, so each run's steps must be the longer run's first steps.
  it("a fitVI run of n steps is the first n steps of a longer run, as the VI panel's frames assume", async () => {
    for (const [name, target] of [
      ["gaussian", targets.gaussian(GAUSSIAN)],
      ["banana", { dim: 2, logDensity: target2D("banana").logDensity }],
    ] as const) {
      for (const family of ["meanfield", "fullrank"] as const) {
        const run = (steps: number) =>
          fitVI(target, {
            family,
            steps,
            samples: 8,
            optimizer: adam({ learningRate: cosineSchedule({ initial: 0.1, steps: 200 }) }),
            seed: 3,
            init: START,
            evaluationDraws: 64,
            stickingTheLanding: true,
          });
        const short = await run(40);
        const long = await run(120);
        expect(Array.from(short.history), `${name} ${family}`).toEqual(
          Array.from(long.history.subarray(0, 40)),
        );
        // A later step's ELBO depends on q after 40 steps: different short runs would show it.
        expect(Array.from((await run(41)).history), `${name} ${family}`).toEqual(
          Array.from(long.history.subarray(0, 41)),
        );
      }
    }
  });

  it("uses the learning rates the loss comparison chose (docs/loss-comparison.json)", () => {
    const json = JSON.parse(
      readFileSync(new URL("../docs/loss-comparison.json", import.meta.url), "utf8"),
    ) as {
      tasks: { id: string; chosen: Record<string, number> }[];
    };
    for (const [id, rates] of Object.entries(TUNED)) {
      expect(json.tasks.find((t) => t.id === id)?.chosen, id).toEqual(rates);
    }
  });
});

describe.skipIf(!hasChromium)("demo page in headless Chromium", () => {
  let browser: Browser | undefined;
  let server: { url: string; close(): Promise<void> } | undefined;
  let dir = "";
  const log: string[] = [];

  /** A fresh page at `query`, once every panel has started; problems are collected in `problems`. */
  async function open(query = "", problems: string[] = []): Promise<Page> {
    const page = await browser!.newPage({ viewport: { width: 1150, height: 1400 } });
    page.on("console", (m) => {
      log.push(`console.${m.type()}: ${m.text()}`);
      if (m.type() === "error" || m.type() === "warning") problems.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    await page.addInitScript(() => {
      const seen: string[] = [];
      (globalThis as unknown as { violations: string[] }).violations = seen;
      document.addEventListener("securitypolicyviolation", (e) =>
        seen.push(`${e.violatedDirective} ${e.blockedURI}`),
      );
    });
    await page.goto(`${server!.url}${query}`);
    // Each panel has heard from its worker: klcore loaded and compiled there.
    await page.waitForFunction(() => {
      const d = (globalThis as unknown as { klcoreDemo?: Exposed }).klcoreDemo;
      return d !== undefined && d.kl.x.length > 0 && d.digits.epochs.length > 0 && d.vi.frames.length > 0;
    });
    return page;
  }

  const exposed = (page: Page): Promise<Exposed> =>
    page.evaluate(() => (globalThis as unknown as { klcoreDemo: Exposed }).klcoreDemo);
  const statusOf = (page: Page, panel: string): Promise<string | undefined> =>
    page.evaluate((p) => document.querySelector<HTMLElement>(`#${p}`)!.dataset.status, panel);
  const waitStatus = (page: Page, panel: string, status: string, timeout = 60_000): Promise<unknown> =>
    page.waitForFunction(
      ([p, s]) => document.querySelector<HTMLElement>(`#${p}`)!.dataset.status === s,
      [panel, status],
      { timeout },
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "klcore-demo-"));
    await buildDemo(dir);
    server = await serveDemo({ dir });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 30_000 });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("serves every file with the strict policy and cross-origin isolation", async () => {
    for (const file of ["", "main.js", "worker.js", "main.css"]) {
      const res = await fetch(`${server!.url}${file}`);
      expect(res.status, file).toBe(200);
      expect(res.headers.get("content-security-policy"), file).toBe(CSP);
      expect(res.headers.get("cross-origin-opener-policy"), file).toBe("same-origin");
      expect(res.headers.get("cross-origin-embedder-policy"), file).toBe("require-corp");
    }
    expect(HEADERS["content-security-policy"]).toBe(CSP);
  });

  it("loads and trains with no console error under the policy, which is in force (an inline script refused)", async () => {
    const problems: string[] = [];
    const page = await open("", problems);
    for (const panel of ["kl", "digits", "vi"]) await page.click(`#${panel} [data-action=play]`);
    await page.waitForTimeout(1500);
    expect(problems).toEqual([]);
    // The probe: an inline script, which the policy must refuse (and report).
    const info = await page.evaluate(async () => {
      const probe = document.createElement("script");
      probe.textContent = "globalThis.inlineRan = true";
      document.head.append(probe);
      await new Promise((r) => setTimeout(r, 100));
      return {
        inlineBlocked: (globalThis as unknown as { inlineRan?: boolean }).inlineRan === undefined,
        isolated: globalThis.crossOriginIsolated,
        violations: (globalThis as unknown as { violations: string[] }).violations,
      };
    });
    // Nothing loaded from elsewhere: every request went to the demo's own server.
    const resources = await page.evaluate(() => performance.getEntriesByType("resource").map((r) => r.name));
    await page.close();
    expect(info.inlineBlocked).toBe(true);
    expect(info.isolated).toBe(true);
    // The probe's refusal is the only one: nothing the page needs was refused.
    expect(info.violations).toEqual(["script-src-elem inline"]);
    // Chromium reports the refused probe on the console too, once; nothing else may be there.
    expect(problems.filter((p) => p.includes("Content Security Policy"))).toHaveLength(1);
    problems.splice(0, problems.length, ...problems.filter((p) => !p.includes("Content Security Policy")));
    expect(resources.filter((r) => !r.startsWith(server!.url))).toEqual([]);
    expect(problems).toEqual([]);
  });

  it("play makes the charted KL fall, with Node's numbers for the same steps", async () => {
    const page = await open();
    const before = await exposed(page);
    expect(before.kl.x).toEqual([0]);
    expect(before.kl.rates).toEqual([10, 100, 1, 30]);
    await page.click("#kl [data-action=play]");
    await page.waitForFunction(
      () => (globalThis as unknown as { klcoreDemo: Exposed }).klcoreDemo.kl.x.length > 400,
      null,
      { timeout: 30_000 },
    );
    await page.click("#kl [data-action=pause]");
    const { kl } = await exposed(page);
    await page.close();
    expect(kl.x.slice(0, 5)).toEqual([0, 1, 2, 3, 4]);
    const [klLoss, mse] = kl.values;
    const at = kl.x.indexOf(400);
    // KL under SGD passes 0.01 by step 400; MSE's KL falls too, but stays far above.
    expect(klLoss![0]!).toBeGreaterThan(1);
    expect(klLoss![at]!).toBeLessThan(0.01);
    expect(mse![at]!).toBeLessThan(mse![0]!);
    expect(mse![at]!).toBeGreaterThan(10 * klLoss![at]!);
    const node = await nodeZipf("sgd", 50);
    expect(kl.values.map((v) => v.slice(0, 50))).toEqual(node);
  });

  it("pause holds the run and step advances it by one step", async () => {
    const page = await open();
    await page.click("#kl [data-action=play]");
    await page.waitForFunction(
      () => (globalThis as unknown as { klcoreDemo: Exposed }).klcoreDemo.kl.x.length > 20,
    );
    await page.click("#kl [data-action=pause]");
    await waitStatus(page, "kl", "paused");
    await page.waitForTimeout(300);
    const held = (await exposed(page)).kl.x.length;
    await page.waitForTimeout(300);
    expect((await exposed(page)).kl.x.length).toBe(held);
    await page.click("#kl [data-action=step]");
    await page.waitForFunction(
      (n) => (globalThis as unknown as { klcoreDemo: Exposed }).klcoreDemo.kl.x.length === n + 1,
      held,
    );
    await page.waitForTimeout(200);
    const after = (await exposed(page)).kl.x;
    await page.close();
    expect(after).toHaveLength(held + 1);
    expect(after.at(-1)).toBe(after.at(-2)! + 1);
  });

  it("classifies held-out digits drawn on the canvas with pointer events after training", async () => {
    const page = await open();
    await page.click("#digits [data-action=play]");
    await waitStatus(page, "digits", "done");
    const { digits: d } = await exposed(page);
    const last = d.epochs.at(-1)!;
    expect(last.epoch).toBe(30);
    expect(last.valAccuracy).toBeGreaterThan(0.95);
    // The first held-out row of each class, drawn cell by cell.
    const rows = Array.from({ length: 10 }, (_, k) => d.heldOut.find((r) => digits[r]![64] === k)!);
    const results = [];
    for (const r of rows) {
      const pixels = digits[r]!.slice(0, 64);
      const got = await drawPixels(page, pixels);
      results.push({ row: r, label: digits[r]![64], predicted: got.predicted, drawn: got.pixels, pixels });
    }
    await page.close();
    // The canvas, area-averaged to 8 x 8, looks like the image drawn: bright where it is bright.
    const unlike = results.filter((r) => !(correlation(r.drawn, r.pixels) > 0.7)).map((r) => r.row);
    expect(unlike).toEqual([]);
    const wrong = results
      .filter((r) => r.predicted !== r.label)
      .map((r) => `row ${r.row}: ${r.label} as ${r.predicted}`);
    expect(wrong).toEqual([]);
  });

  it("the VI panel's full-rank q reaches the correlated Gaussian's moments, the mean-field q beside it its known optimum", async () => {
    const mean = [0.5, -0.5];
    const cov = [1, 0.48, 0.48, 0.36];
    // Mean-field's reverse-KL optimum: the exact mean, each variance 1 / (the precision's diagonal).
    const det = cov[0]! * cov[3]! - cov[1]! * cov[2]!;
    const meanfield = [det / cov[3]!, 0, 0, det / cov[0]!];
    const finished = async (query: string): Promise<Record<string, number[]>> => {
      const page = await open(query);
      await page.click("#vi [data-action=play]");
      await waitStatus(page, "vi", "done");
      const data = await page.evaluate(() => ({ ...document.querySelector<HTMLElement>("#vi")!.dataset }));
      await page.close();
      expect(data.step).toBe("2000");
      return Object.fromEntries(
        ["mean", "covariance", "otherMean", "otherCovariance"].map((k) => [
          k,
          JSON.parse(data[k]!) as number[],
        ]),
      );
    };
    const near = (got: number[], want: number[], tolerance: number, what: string): void =>
      got.forEach((v, i) => expect(Math.abs(v - want[i]!), `${what}[${i}]`).toBeLessThan(tolerance));
    // Full-rank q can equal the target, and with the path-derivative gradient it settles there.
    const full = await finished("?vi.family=fullrank");
    near(full.mean!, mean, 0.002, "full-rank mean");
    near(full.covariance!, cov, 0.002, "full-rank covariance");
    near(full.otherMean!, mean, 0.01, "mean-field mean");
    near(full.otherCovariance!, meanfield, 0.01, "mean-field covariance");
    // Choosing mean-field draws the same two fits the other way round.
    const mf = await finished("?vi.family=meanfield");
    expect(mf).toEqual({
      mean: full.otherMean,
      covariance: full.otherCovariance,
      otherMean: full.mean,
      otherCovariance: full.covariance,
    });
  });

  it("a URL with a seed and a rate reproduces the same first values; another seed differs", async () => {
    const run = async (query: string): Promise<Pick<Exposed, "digits" | "vi">> => {
      const page = await open(query);
      for (let i = 0; i < 3; i++) {
        await page.click("#digits [data-action=step]");
        await page.click("#vi [data-action=step]");
      }
      await page.waitForFunction(() => {
        const d = (globalThis as unknown as { klcoreDemo: Exposed }).klcoreDemo;
        return d.digits.epochs.length === 4 && d.vi.frames.length === 4;
      });
      const { digits: dg, vi } = await exposed(page);
      await page.close();
      return { digits: dg, vi };
    };
    const query = "?dg.model=softmax&dg.seed=7&dg.lr=0.02&vi.seed=5&vi.lr=0.03&vi.dir=reverse";
    const a = await run(query);
    const b = await run(query);
    const c = await run(query.replace("dg.seed=7", "dg.seed=8").replace("vi.seed=5", "vi.seed=6"));
    expect(a.digits.epochs.map((e) => e.epoch)).toEqual([0, 1, 2, 3]);
    expect(a.vi.frames.map((f) => f.step)).toEqual([0, 1, 2, 3]);
    expect(b).toEqual(a);
    expect(c.digits.epochs.slice(1)).not.toEqual(a.digits.epochs.slice(1));
    expect(c.vi.frames.slice(1)).not.toEqual(a.vi.frames.slice(1));
  });

  it("a control writes its setting to the URL, and reset reads it back", async () => {
    const page = await open();
    await page.fill('#digits [data-key="seed"]', "42");
    await page.dispatchEvent('#digits [data-key="seed"]', "change");
    expect(new URL(page.url()).searchParams.get("dg.seed")).toBe("42");
    await page.click("#digits [data-action=reset]");
    expect(await page.inputValue('#digits [data-key="seed"]')).toBe("42");
    await page.close();
  });

  it("the page's timer keeps firing while every panel trains, and klcore runs in the workers alone", async () => {
    // The page's own bundle does not contain klcore: only the worker compiles WebAssembly.
    expect(readFileSync(join(dir, "main.js"), "utf8")).not.toContain("WebAssembly");
    expect(readFileSync(join(dir, "worker.js"), "utf8")).toContain("WebAssembly");
    const page = await open("?dg.epochs=1000");
    for (const panel of ["kl", "digits", "vi"]) await page.click(`#${panel} [data-action=play]`);
    await page.waitForTimeout(200);
    const from = await page.evaluate(() => performance.now());
    const epochsBefore = (await exposed(page)).digits.epochs.length;
    await page.waitForTimeout(3000);
    const { ticks, digits: d } = await exposed(page);
    expect(d.epochs.length).toBeGreaterThan(epochsBefore + 5);
    const busy = await Promise.all(["kl", "digits"].map((p) => statusOf(page, p)));
    await page.close();
    // The Why-KL and digits runs were still training at the end of the window.
    expect(busy).toEqual(["playing", "playing"]);
    const inside = ticks.filter((t) => t >= from);
    const gaps = inside.slice(1).map((t, i) => t - inside[i]!);
    // A 50 ms timer fires about 60 times in 3 s. The bounds leave room for a loaded machine (the
    // workers and other processes share its cores), not for a main thread held by training.
    expect(inside.length).toBeGreaterThan(15);
    expect(Math.max(...gaps)).toBeLessThan(500);
  });
});

function correlation(a: readonly number[], b: readonly number[]): number {
  const mean = (v: readonly number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const ma = mean(a);
  const mb = mean(b);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  a.forEach((x, i) => {
    ab += (x - ma) * (b[i]! - mb);
    aa += (x - ma) ** 2;
    bb += (b[i]! - mb) ** 2;
  });
  return ab / Math.sqrt(aa * bb);
}
