// The page side of test/browser.test.ts. It runs in headless Chromium under
// `Content-Security-Policy: script-src 'self' 'wasm-unsafe-eval'`, imports the browser bundle as a
// module and posts what it computed to /report as JSON. Numbers JSON cannot carry (NaN, the
// infinities, -0) travel as the strings "NaN", "Infinity", "-Infinity" and "-0", both ways.
//
// ?mode=golden  await init(), then every case of /cases.json with the SIMD default instance and a
//               scalar instance, then an error thrown across the API.
// ?mode=lazy    kl() with no init() first: the default instance compiles itself synchronously on
//               the main thread.
/* global fetch */
import * as klcore from "/dist/klcore.browser.js";

const encode = (x) =>
  Number.isNaN(x)
    ? "NaN"
    : x === Infinity
      ? "Infinity"
      : x === -Infinity
        ? "-Infinity"
        : Object.is(x, -0)
          ? "-0"
          : x;

const decode = (v) =>
  typeof v === "number" ? v : { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity, "-0": -0 }[v];

/** A result (number or typed array) as a JSON-safe array of numbers. */
const out = (r) => (typeof r === "number" ? [encode(r)] : Array.from(r, encode));

const describeError = (e) => ({
  name: e?.name,
  message: e?.message,
  isRangeError: e instanceof RangeError,
  isError: e instanceof Error,
});

function input(values, dtype) {
  const numbers = values.map(decode);
  return dtype === "float32" ? Float32Array.from(numbers) : Float64Array.from(numbers);
}

function run(k, c) {
  const p = input(c.p, c.dtype);
  const q = c.q === undefined ? undefined : input(c.q, c.dtype);
  switch (c.fn) {
    case "kl":
      return k.kl(p, q, c.options);
    case "crossEntropy":
      return k.crossEntropy(p, q, c.options);
    case "entropy":
      return k.entropy(p, c.options);
    case "jsDivergence":
      return k.jsDivergence(p, q, c.options);
    case "jsDistance":
      return k.jsDistance(p, q, c.options);
    case "relEntr":
      return k.relEntr(p, q);
    default:
      throw new Error(`unknown fn ${c.fn}`);
  }
}

function attempt(k, c) {
  try {
    return { value: out(run(k, c)) };
  } catch (e) {
    return { error: describeError(e) };
  }
}

const violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  violations.push({ directive: e.effectiveDirective, blocked: e.blockedURI });
});

async function golden() {
  const initBackend = await klcore.init();
  const scalar = await klcore.createInstance({ simd: false });
  const cases = await (await fetch("/cases.json")).json();
  const results = cases.map((c) => ({ simd: attempt(klcore, c), scalar: attempt(scalar, c) }));
  let thrown = null;
  try {
    klcore.kl([0.5, -0.5, 1], [0.3, 0.3, 0.4]);
  } catch (e) {
    thrown = describeError(e);
  }
  // The policy must really be in force: eval-like code is refused without 'unsafe-eval'.
  let evalBlocked = false;
  try {
    new Function("return 1")();
  } catch (e) {
    evalBlocked = e instanceof EvalError;
  }
  return {
    initBackend,
    backend: klcore.backend(),
    scalarBackend: scalar.backend(),
    results,
    thrown,
    evalBlocked,
  };
}

async function lazy() {
  try {
    const value = klcore.kl([0.25, 0.75], [0.5, 0.5]);
    return { ok: true, value: encode(value), backend: klcore.backend() };
  } catch (e) {
    return { ok: false, error: describeError(e) };
  }
}

async function main() {
  const mode = new URL(window.location.href).searchParams.get("mode");
  let report;
  try {
    report = mode === "golden" ? await golden() : mode === "lazy" ? await lazy() : { fatal: `mode ${mode}` };
  } catch (e) {
    report = { fatal: String(e?.stack ?? e) };
  }
  // Let queued securitypolicyviolation events arrive before reporting them.
  await new Promise((resolve) => setTimeout(resolve, 50));
  report.violations = violations;
  report.mode = mode;
  await fetch("/report", { method: "POST", body: JSON.stringify(report) });
}

main();
