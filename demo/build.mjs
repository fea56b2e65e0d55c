// Builds the demo page into a static folder (build/demo/ by default, gitignored): index.html, main.js and
// main.css (the page), worker.js (the training worker, klcore's browser bundle inside, its
// WebAssembly embedded). Nothing is fetched from elsewhere at run time.
//
// Usage: node demo/build.mjs [outdir]      (npm run demo:build; run `npm run build` first)

import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
export const DEFAULT_OUT = join(root, "build", "demo");

/** The headers a host must send with every file of the demo (README, docs/demo.md). */
export const HEADERS = {
  // klcore compiles WebAssembly: 'wasm-unsafe-eval', never 'unsafe-eval'.
  "content-security-policy": "script-src 'self' 'wasm-unsafe-eval'",
  // Cross-origin isolation, so that workers may share memory (SharedArrayBuffer).
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-embedder-policy": "require-corp",
};

/** "klcore" resolves to the package's browser bundle, as a bundler's `browser` condition gives it. */
const klcoreBrowser = {
  name: "klcore-browser",
  setup(build) {
    build.onResolve({ filter: /^klcore$/ }, () => ({ path: join(root, "dist", "klcore.browser.js") }));
  },
};

/** Builds the demo into `outdir`; resolves with the folder. */
export async function buildDemo(outdir = DEFAULT_OUT) {
  const out = resolve(outdir);
  if (!existsSync(join(root, "dist", "klcore.browser.js")))
    throw new Error("dist/klcore.browser.js is missing: run `npm run build` first");
  mkdirSync(out, { recursive: true });
  await esbuild.build({
    entryPoints: { main: join(here, "src", "main.ts"), worker: join(here, "src", "worker.ts") },
    outdir: out,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    sourcemap: true,
    loader: { ".csv": "text" },
    plugins: [klcoreBrowser],
    logLevel: "warning",
  });
  copyFileSync(join(here, "index.html"), join(out, "index.html"));
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildDemo(process.argv[2]);
  console.log(`demo built in ${out}; serve it with these headers on every file:`);
  for (const [name, value] of Object.entries(HEADERS)) console.log(`  ${name}: ${value}`);
}
