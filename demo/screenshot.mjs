// Makes docs/demo.png, the README's picture of the demo (the default settings, the Why-KL run
// played faster): builds the page into a temporary folder,
// serves it, plays every panel to its end in headless Chromium, draws a held-out digit on the
// canvas and takes a screenshot of the whole page.
//
// Usage: node demo/screenshot.mjs [out.png]     (after npm run build; CHROMIUM_PATH as for the tests)

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { CHROMIUM, FLAGS } from "../bench/browser/chromium.mjs";
import { buildDemo } from "./build.mjs";
import { drawPixels } from "./drive.mjs";
import { serveDemo } from "./serve.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = process.argv[2] ?? join(root, "docs", "demo.png");
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
  await page.goto(`${server.url}?kl.speed=1000`);
  await page.waitForFunction(() => globalThis.klcoreDemo?.digits.heldOut.length > 0);
  for (const panel of ["kl", "digits", "vi"]) await page.click(`#${panel} [data-action=play]`);
  for (const panel of ["kl", "digits", "vi"]) {
    await page.waitForFunction((p) => document.querySelector(`#${p}`).dataset.status === "done", panel, {
      timeout: 120_000,
    });
  }
  // A held-out 3 (the first held-out row of that class).
  const held = await page.evaluate(() => globalThis.klcoreDemo.digits.heldOut);
  const row = held.find((r) => rows[r][64] === 3);
  const got = await drawPixels(page, rows[row].slice(0, 64));
  await page.waitForTimeout(300);
  await page.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${out} (held-out row ${row}, a ${rows[row][64]}, predicted ${got.predicted})`);
} finally {
  await browser.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
