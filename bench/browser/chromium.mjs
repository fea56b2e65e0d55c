// Runs the benchmark's suites in headless Chromium (Node side of bench:browser and of
// test/bench-browser.test.ts): bundles bench/browser/page.mjs with esbuild (in memory), serves it
// from a local http server, launches the system's Chromium with playwright-core (no browser
// download; the flags of test/browser.test.ts) and calls the page's klcoreBench.run(request).
//
// The page is served cross-origin isolated (COOP same-origin, COEP require-corp): Chromium then gives
// performance.now() a 5 µs step instead of 100 µs, which mitata's batches of a few milliseconds
// need. Isolation also lets TF.js's wasm backend pick its threaded build; loadTf() keeps it on the
// single-threaded SIMD binary, as in Node (klcore is single-threaded), and the server records which
// .wasm the page actually fetched. No Content-Security-Policy: mitata generates its timing loop with
// the AsyncFunction constructor, which `script-src` without 'unsafe-eval' refuses (klcore itself needs
// only 'wasm-unsafe-eval', as test/browser.test.ts shows).

import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { chromium } from "playwright-core";
import { WASM_BINARIES } from "../contenders/tfjs.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const tfWasmDir = join(root, "node_modules", "@tensorflow", "tfjs-backend-wasm", "dist");

export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
export const hasChromium = () => existsSync(CHROMIUM);
/** Chromium's flags for a headless, quiet run (also the browser test's). */
export const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const PAGE = '<!doctype html>\n<meta charset="utf-8">\n<script type="module" src="/bench.js"></script>\n';
const ISOLATION = {
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-embedder-policy": "require-corp",
};

/**
 * The page bundle. The suites import klcore as ../../dist/index.js (Node's build); here that resolves
 * to dist/klcore.browser.js, the file the package's `browser` condition gives bundlers. Node-only
 * modules (node:*) are only imported lazily on Node's code paths, and stay out.
 */
export async function bundlePage() {
  const browserBuild = {
    name: "klcore-browser-build",
    setup(build) {
      build.onResolve({ filter: /\/dist\/index\.js$/ }, () => ({
        path: join(root, "dist", "klcore.browser.js"),
      }));
    },
  };
  const out = await esbuild.build({
    entryPoints: [join(root, "bench", "browser", "page.mjs")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    // mitata's runner (not the measure() the harness uses) imports bun:jsc lazily on Bun.
    external: ["node:*", "bun:*"],
    plugins: [browserBuild],
    write: false,
    logLevel: "warning",
  });
  return out.outputFiles[0].contents;
}

/**
 * Opens the page in Chromium and runs `request` (see page.mjs; wasmPaths is filled in here). relaxed:
 * { shipped, relaxed } wasm bytes to serve for the relaxed-SIMD comparison, or null. log: one line of
 * the page's progress. Returns { result (the page's report), browser: { version, v8, userAgent,
 * product }, wasmFetched: the .wasm files the page requested }.
 */
export async function runInChromium(request, { relaxed = null, log = () => {} } = {}) {
  const bundle = await bundlePage();
  const wasmFetched = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const send = (type, body) => res.writeHead(200, { "content-type": type, ...ISOLATION }).end(body);
    if (url.pathname === "/") return send("text/html; charset=utf-8", PAGE);
    if (url.pathname === "/bench.js") return send("text/javascript; charset=utf-8", bundle);
    if (url.pathname === "/favicon.ico") return res.writeHead(204, ISOLATION).end();
    if (url.pathname.startsWith("/tfjs-wasm/")) {
      const file = basename(url.pathname);
      if (Object.values(WASM_BINARIES).includes(file)) {
        wasmFetched.push(file);
        return send("application/wasm", readFileSync(join(tfWasmDir, file)));
      }
    }
    if (relaxed && url.pathname.startsWith("/relaxed/")) {
      const bytes = relaxed[basename(url.pathname, ".wasm")];
      if (bytes) return send("application/wasm", bytes);
    }
    res.writeHead(404, ISOLATION).end();
  });
  await new Promise((ready) => server.listen(0, "127.0.0.1", ready));
  const base = `http://127.0.0.1:${server.address().port}`;
  let browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 30_000 });
    const cdp = await browser.newBrowserCDPSession();
    const version = await cdp.send("Browser.getVersion");
    const page = await browser.newPage();
    const errors = [];
    page.on("console", (m) =>
      m.type() === "log" ? log(m.text()) : log(`[console.${m.type()}] ${m.text()}`),
    );
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${base}/`);
    await page.waitForFunction(() => globalThis.klcoreBench !== undefined, null, { timeout: 30_000 });
    const full = {
      ...request,
      wasmPaths: `${base}/tfjs-wasm/`,
      relaxed: relaxed
        ? { shipped: `${base}/relaxed/shipped.wasm`, relaxed: `${base}/relaxed/relaxed.wasm` }
        : null,
    };
    let text;
    try {
      text = await page.evaluate((r) => globalThis.klcoreBench.run(r), full);
    } catch (e) {
      throw new Error(`the page failed: ${e.message}${errors.length ? `\n${errors.join("\n")}` : ""}`, {
        cause: e,
      });
    }
    return {
      result: JSON.parse(text),
      browser: {
        product: version.product,
        version: browser.version(),
        v8: version.jsVersion,
        userAgent: version.userAgent,
      },
      wasmFetched,
    };
  } finally {
    await browser?.close();
    server.closeAllConnections();
    await new Promise((done) => server.close(() => done()));
  }
}
