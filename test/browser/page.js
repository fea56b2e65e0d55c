// The page side of test/browser.test.ts. It runs in headless Chromium under
// `Content-Security-Policy: script-src 'self' 'wasm-unsafe-eval'`, imports the browser bundle as a
// module and posts what it computed to /report as JSON. Numbers JSON cannot carry (NaN, the
// infinities, -0) travel as the strings "NaN", "Infinity", "-Infinity" and "-0", both ways.
//
// ?mode=golden  await init(), then every case of /cases.json with the SIMD default instance and a
//               scalar instance, then an error thrown across the API.
// ?mode=losses  await init(), then every case of /loss-cases.json (the softmax family, the losses
//               on logits and gaussianKL) with the SIMD default instance and a scalar instance.
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

/** A loss result's number or array as { type, values }: the array's constructor name travels too. */
const entry = (x) =>
  typeof x === "number"
    ? { type: "number", values: [encode(x)] }
    : { type: x.constructor.name, values: Array.from(x, encode) };

/** The numbers a loss case gives, by the names of losses.json's `expected` (undefined: not given). */
function runLoss(k, c) {
  const arr = (key) => input(c.inputs[key], c.dtype);
  switch (c.fn) {
    case "logSumExp":
      return { out: k.logSumExp(arr("logits"), c.options) };
    case "softmax":
      return { out: k.softmax(arr("logits"), c.options) };
    case "logSoftmax":
      return { out: k.logSoftmax(arr("logits"), c.options) };
    case "gaussianKL": {
      const p = { mean: arr("pMean"), logVar: arr("pLogVar") };
      const q = c.inputs.qMean === undefined ? undefined : { mean: arr("qMean"), logVar: arr("qLogVar") };
      const r = k.gaussianKL(p, q, { ...c.options, grad: c.grad });
      return {
        loss: r.loss,
        gradPMean: r.grad?.p.mean,
        gradPLogVar: r.grad?.p.logVar,
        gradQMean: r.grad?.q?.mean,
        gradQLogVar: r.grad?.q?.logVar,
      };
    }
  }
  const options = { ...c.options, grad: c.grad };
  if (c.inputs.weights !== undefined) options.weights = arr("weights");
  // Class indices as a plain number[]; probabilities (and BCE targets) in the case's precision.
  const target = c.targetKind === "index" ? c.inputs.target.map(decode) : arr("target");
  const logits = arr("logits");
  let r;
  switch (c.fn) {
    case "crossEntropyWithLogits":
      r = k.crossEntropyWithLogits(target, logits, options);
      break;
    case "klWithLogits":
      r = k.klWithLogits(target, logits, options);
      break;
    case "binaryCrossEntropyWithLogits":
      r = k.binaryCrossEntropyWithLogits(target, logits, options);
      break;
    default:
      throw new Error(`unknown fn ${c.fn}`);
  }
  return { loss: r.loss, grad: r.grad };
}

function attemptLoss(k, c) {
  try {
    const value = {};
    for (const [key, x] of Object.entries(runLoss(k, c))) if (x !== undefined) value[key] = entry(x);
    return { value };
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

async function losses() {
  await klcore.init();
  const scalar = await klcore.createInstance({ simd: false });
  const cases = await (await fetch("/loss-cases.json")).json();
  const results = cases.map((c) => ({ simd: attemptLoss(klcore, c), scalar: attemptLoss(scalar, c) }));
  return { backend: klcore.backend(), scalarBackend: scalar.backend(), results };
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
    const modes = { golden, losses, lazy };
    report = Object.hasOwn(modes, mode) ? await modes[mode]() : { fatal: `mode ${mode}` };
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
