// How well the digit canvas stands in for the dataset's images: trains the digits panel (its
// settings from the URL given, the defaults otherwise) in headless Chromium, then draws the first N
// held-out rows on the canvas the way test/demo.test.ts does (demo/drive.mjs: a stroke through each
// run of bright cells) and counts those classified as their class. Results: docs/demo.md.
//
// Usage: node demo/measure-drawing.mjs [--rows N] [--query "?dg.model=softmax"]   (after npm run build)

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { CHROMIUM, FLAGS } from "../bench/browser/chromium.mjs";
import { buildDemo } from "./build.mjs";
import { drawPixels } from "./drive.mjs";
import { serveDemo } from "./serve.mjs";

const { values: args } = parseArgs({
  options: { rows: { type: "string", default: "100" }, query: { type: "string", default: "" } },
});
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const rows = readFileSync(join(root, "data", "digits.csv"), "utf8")
  .trim()
  .split("\n")
  .slice(1)
  .map((line) => line.split(",").map(Number));

const dir = mkdtempSync(join(tmpdir(), "klcore-demo-"));
const server = await serveDemo({ dir: await buildDemo(dir) });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 30_000 });
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 1200 } });
  await page.goto(`${server.url}${args.query}`);
  await page.waitForFunction(() => globalThis.klcoreDemo?.digits.heldOut.length > 0);
  await page.click("#digits [data-action=play]");
  await page.waitForFunction(() => document.querySelector("#digits").dataset.status === "done", null, {
    timeout: 120_000,
  });
  const { heldOut, epochs } = await page.evaluate(() => globalThis.klcoreDemo.digits);
  const wrong = [];
  const tried = heldOut.slice(0, Number(args.rows));
  for (const r of tried) {
    const got = await drawPixels(page, rows[r].slice(0, 64));
    if (got.predicted !== rows[r][64]) wrong.push(`row ${r}: a ${rows[r][64]} read as ${got.predicted}`);
  }
  const last = epochs.at(-1);
  console.log(
    `after ${last.epoch} epochs, held-out accuracy on the images ${(last.valAccuracy * 100).toFixed(1)}% ` +
      `(${heldOut.length} rows); drawn on the canvas: ${tried.length - wrong.length} of ${tried.length} right`,
  );
  for (const w of wrong) console.log(`  ${w}`);
} finally {
  await browser.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
