// The benchmark in headless Chromium: the same suites, contenders (less none), workloads, harness and
// targets as bench/run.mjs, run in one page (bench/browser/page.mjs, driven by
// bench/browser/chromium.mjs), then the relaxed-SIMD comparison of the dense kernels
// (bench/relaxed.mjs; Chromium ships relaxed SIMD without a flag). Prints the markdown report and, on
// full runs, writes bench/results/browser.md and browser.json (every sample, the machine: CPU,
// cores, the Chromium and V8 versions, the userAgent, whether the page was cross-origin isolated, its
// clock's step, the TF.js wasm binary the page fetched).
//
// Usage: npm run bench:browser              (builds first)
//        node bench/run-browser.mjs [--quick] [--suite divergences,xent,train] [--no-relaxed]
// The options and BENCH_* variables of bench/run.mjs apply. CHROMIUM_PATH: the browser (default
// /usr/bin/chromium).

import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildVariants } from "../scripts/measure/measure-relaxed.mjs";
import { CHROMIUM, hasChromium, runInChromium } from "./browser/chromium.mjs";
import { runSettings, suiteOptions } from "./harness.mjs";
import { machine, mlDistanceVersion } from "./machine.mjs";
import { markdown } from "./report.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const settings = runSettings(argv, process.env);
// The VI suite, the workers suite (Node's worker_threads) and PyTorch are Node's: the page runs the
// other suites.
const { trainSamples, suites: all, ...opts } = settings;
delete opts.torch;
delete opts.torchThreads;
const selected = all.filter((name) => name !== "vi" && name !== "workers");
const withRelaxed = !argv.includes("--no-relaxed");
const log = (line) => console.error(line);
if (!hasChromium())
  throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH`);

const info = machine();
const started = performance.now();
let relaxed = null;
if (withRelaxed) {
  log("building the relaxed-SIMD variants of the dense kernels (bench/relaxed.mjs)");
  relaxed = await buildVariants();
}
const request = { suites: selected.map((name) => ({ name, options: suiteOptions(name, settings) })) };
const { result, browser, wasmFetched } = await runInChromium(request, { relaxed, log });
info.loadAverageAtEnd = os.loadavg();

const tfWasm = [...new Set(wasmFetched)];
if (tfWasm.length !== 1 || tfWasm[0] !== result.tfjs.binary.file) {
  throw new Error(
    `TF.js's wasm backend fetched ${tfWasm.join(", ") || "nothing"}, expected ${result.tfjs.binary.file}`,
  );
}
const { suites } = result;
// Node's versions are the runner's; the engine measured is Chromium's V8.
const { node, v8, ...host } = info;
const run = {
  machine: {
    ...host,
    runner: { node, v8 },
    v8: browser.v8,
    browser: "Chromium",
    chromium: browser.version,
    userAgent: result.page.userAgent,
    headless: true,
    hardwareConcurrency: result.page.hardwareConcurrency,
    crossOriginIsolated: result.page.crossOriginIsolated,
    timerResolutionMs: result.page.timerResolutionMs,
    relaxedSimd: result.page.relaxedSimd,
  },
  settings: { ...opts, trainSamples, suites: selected },
  peers: {
    tfjs: result.tfjs.version,
    tfjsWasmBinary: tfWasm[0],
    tfjsWasmSimd: result.tfjs.binary.simd,
    tfjsWasmThreads: result.tfjs.binary.threads,
    mlDistance: mlDistanceVersion(),
  },
  durationSeconds: (performance.now() - started) / 1000,
  pageSeconds: result.durationSeconds,
  targets: selected.flatMap((name) => suites[name].targets),
  suites,
  relaxedSimd: result.relaxedSimd,
  sink: result.sink,
};
if (!Number.isFinite(run.sink.sum)) throw new Error(`the result sink is not finite: ${run.sink.sum}`);
const md = markdown(run);
process.stdout.write(md);
console.log(
  `\n(sink ${run.sink.sum.toPrecision(6)}, ${run.sink.nonFinite} NaN values left out; ${run.durationSeconds.toFixed(1)} s)`,
);

if (opts.quick) {
  console.log("Quick run: bench/results/ left unchanged.");
} else {
  const out = join(here, "results");
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "browser.md"), md);
  writeFileSync(join(out, "browser.json"), JSON.stringify(run, null, 1) + "\n");
  console.log("Wrote bench/results/browser.md and bench/results/browser.json.");
}
