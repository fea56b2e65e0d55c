// The page side of bench:browser, bundled by bench/browser/chromium.mjs with esbuild (TF.js, its wasm
// backend, ml-distance, mitata, the suites and the harness; klcore from dist/klcore.browser.js, as a
// bundler's `browser` condition resolves the package). It defines globalThis.klcoreBench.run(request),
// which Node calls through Playwright:
//   request = { wasmPaths, suites: [{ name, options }], relaxed: { shipped, relaxed } | null }
// wasmPaths is the URL of the directory serving TF.js's .wasm binaries; each suite runs with its
// options plus the loaded tf; relaxed names the URLs of the two builds of bench/relaxed.mjs. It
// resolves with the results as a JSON string (NaN becomes null, as in latest.json); progress goes to
// console.log, which the runner prints.
/* global navigator, fetch */

import { loadTf, useBackend, wasmBinary } from "../contenders/tfjs.mjs";
import { sink, sinkNonFinite } from "../harness.mjs";
import { compareDense } from "../relaxed.mjs";
import { divergences } from "../suites/divergences.mjs";
import { fitOverhead } from "../suites/fit.mjs";
import { train } from "../suites/train.mjs";
import { xent } from "../suites/xent.mjs";

const SUITES = { divergences, xent, train, fit: fitOverhead };

/** The smallest step of performance.now() seen (Chromium coarsens it: 5 µs when cross-origin isolated, 100 µs else). */
function timerResolutionMs() {
  let smallest = Infinity;
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    let t1 = performance.now();
    while (t1 === t0) t1 = performance.now();
    smallest = Math.min(smallest, t1 - t0);
  }
  return smallest;
}

/** Whether the engine validates a module using one relaxed-SIMD instruction (f32x4.relaxed_madd). */
function hasRelaxedSimd() {
  // (func (result v128) v128.const 0 v128.const 0 v128.const 0 f32x4.relaxed_madd)
  const zero = [0xfd, 0x0c, ...new Array(16).fill(0)];
  const body = [0, ...zero, ...zero, ...zero, 0xfd, 0x85, 0x02, 0x0b];
  const bytes = Uint8Array.from([
    ...[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
    ...[1, 5, 1, 0x60, 0, 1, 0x7b],
    ...[3, 2, 1, 0],
    ...[10, body.length + 2, 1, body.length, ...body],
  ]);
  return WebAssembly.validate(bytes);
}

async function run(request) {
  const log = (line) => console.log(line);
  const started = performance.now();
  const page = {
    userAgent: navigator.userAgent,
    hardwareConcurrency: navigator.hardwareConcurrency,
    deviceMemoryGiB: navigator.deviceMemory ?? null,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    timerResolutionMs: timerResolutionMs(),
    relaxedSimd: hasRelaxedSimd(),
  };
  const tf = await loadTf("wasm", { wasmPaths: request.wasmPaths });
  const binary = await wasmBinary(tf);
  await useBackend(tf, "cpu");
  const suites = {};
  for (const { name, options } of request.suites) {
    const t0 = performance.now();
    log(`${name}:`);
    suites[name] = await SUITES[name]({ ...options, tf, log });
    suites[name].durationSeconds = (performance.now() - t0) / 1000;
  }
  let relaxed = null;
  if (request.relaxed) {
    log("relaxed SIMD:");
    const t0 = performance.now();
    const bytes = async (url) => new Uint8Array(await (await fetch(url)).arrayBuffer());
    relaxed = await compareDense(await bytes(request.relaxed.shipped), await bytes(request.relaxed.relaxed));
    relaxed.durationSeconds = (performance.now() - t0) / 1000;
    log(`  forward ${relaxed.forward.speedup.toFixed(2)}x, backward ${relaxed.backward.speedup.toFixed(2)}x`);
  }
  return JSON.stringify({
    page,
    tfjs: { version: tf.version.tfjs, binary },
    suites,
    relaxedSimd: relaxed,
    sink: { sum: sink(), nonFinite: sinkNonFinite() },
    durationSeconds: (performance.now() - started) / 1000,
  });
}

globalThis.klcoreBench = { run };
