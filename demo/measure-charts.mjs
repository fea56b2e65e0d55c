// Measures the redraw cost of two chart libraries in headless Chromium, for the demo's live
// charts: uPlot (canvas, a plain data-array API) against vega (vega-lite compiled to a vega View on
// canvas, fed by streaming changesets, as vega-embed's users stream data). Each streams points into
// a 640 x 300 chart of 4 series on a log scale at about 100 updates a second, from 1,400 points per
// series to 2,000 (the demo's Zipf run is 2,000 steps), and each update is timed from its call to
// the end of its redraw; rounds alternate between the libraries. It also checks that each library
// draws under the demo's Content-Security-Policy. Results: docs/demo.md.
//
// Usage: node demo/measure-charts.mjs [--rounds N] [--updates N]   (CHROMIUM_PATH as for the tests)

import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { chromium } from "playwright-core";
import { CHROMIUM, FLAGS } from "../bench/browser/chromium.mjs";
import { HEADERS } from "./build.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: { rounds: { type: "string", default: "5" }, updates: { type: "string", default: "600" } },
});
const rounds = Number(args.rounds);
const updates = Number(args.updates);
const PREFILL = 1400;
const PER_SECOND = 100;

const bundle = (
  await esbuild.build({
    entryPoints: [join(here, "measure-charts.page.mjs")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "warning",
  })
).outputFiles[0].contents;

const PAGE = '<!doctype html>\n<meta charset="utf-8">\n<script type="module" src="/page.js"></script>\n';
const isolation = {
  "cross-origin-opener-policy": HEADERS["cross-origin-opener-policy"],
  "cross-origin-embedder-policy": HEADERS["cross-origin-embedder-policy"],
};
const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  // /strict/ is served under the demo's policy; / without one (timings).
  const headers = url.pathname.startsWith("/strict/") ? HEADERS : isolation;
  const path = url.pathname.replace(/^\/strict/, "");
  if (path === "/") return res.writeHead(200, { "content-type": "text/html", ...headers }).end(PAGE);
  if (path === "/page.js")
    return res.writeHead(200, { "content-type": "text/javascript", ...headers }).end(bundle);
  res.writeHead(404, headers).end();
});
await new Promise((ready) => server.listen(0, "127.0.0.1", ready));
const base = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 30_000 });
const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const quantile = (v, q) => [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.floor(q * v.length))];
try {
  const open = async (path) => {
    const page = await browser.newPage({ viewport: { width: 800, height: 800 } });
    await page.goto(`${base}${path}`);
    await page.waitForFunction(() => globalThis.measureCharts !== undefined);
    return page;
  };
  const strict = await open("/strict/");
  const policy = [];
  for (const name of ["uplot", "vega"])
    policy.push(await strict.evaluate((n) => globalThis.measureCharts.underPolicy(n), name));
  await strict.close();

  const all = { uplot: [], vega: [] };
  const roundMedians = { uplot: [], vega: [] };
  for (let r = 0; r < rounds; r++) {
    for (const name of r % 2 ? ["vega", "uplot"] : ["uplot", "vega"]) {
      const page = await open("/");
      const m = await page.evaluate(
        ([n, o]) => globalThis.measureCharts.measure(n, o),
        [name, { prefill: PREFILL, updates, perSecond: PER_SECOND }],
      );
      await page.close();
      all[name].push(...m.times);
      roundMedians[name].push(median(m.times));
      console.error(
        `round ${r + 1} ${name}: median ${median(m.times).toFixed(3)} ms, ${(m.elapsedMs / 1000).toFixed(1)} s for ${updates} updates`,
      );
    }
  }
  console.log(
    `Chromium ${browser.version()}; ${rounds} rounds of ${updates} updates at ${PER_SECOND}/s, ${PREFILL} -> ${PREFILL + updates} points x 4 series\n`,
  );
  console.log(
    "| library | median ms per update | p95 ms | median of round medians (range) | share of a 10 ms budget | draws under the demo's CSP |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: | --- |");
  for (const name of ["uplot", "vega"]) {
    const t = all[name];
    const rm = roundMedians[name];
    const p = policy.find((x) => x.name === name);
    console.log(
      `| ${name} | ${median(t).toFixed(3)} | ${quantile(t, 0.95).toFixed(3)} | ${median(rm).toFixed(3)} (${Math.min(...rm).toFixed(3)}-${Math.max(...rm).toFixed(3)}) | ${((median(t) / 10) * 100).toFixed(0)}% | ${p.ok ? "yes" : `no: ${p.error}`} |`,
    );
  }
} finally {
  await browser.close();
  server.closeAllConnections();
  server.close();
}
