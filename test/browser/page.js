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
// ?mode=train   await init(), then every run of /train-runs.json: fit() a seeded model (MLP or
//               categorical) with the SIMD default instance and a scalar instance, counting the
//               event loop's turns until fit resolves (a setTimeout(0) chain, a MessageChannel ping
//               and a user-blocking scheduler.postTask task per batch), one run aborted from onBatch;
//               then a long fit aborted from a setTimeout(0).
// ?mode=workers  served cross-origin isolated: the runs of /train-runs.json with workers, in Web
//               Workers; workers: 'auto'; a worker that throws, and one that exits, during a fit.
// ?mode=noworker  isolated, with klcore.worker.js refused by the server: fit's one-thread path.
// ?mode=vi      await init(), then every fitVI run of vi-runs.js with the SIMD default instance and
//               a scalar instance; then a long fitVI aborted from a setTimeout(0).
/* global fetch, MessageChannel, AbortController, navigator */
import * as klcore from "/dist/klcore.browser.js";
import { runVI, viRuns } from "/test/browser/vi-runs.js";

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

/** A model of instance k as a run describes it. */
const modelOf = (k, spec) => (spec.kind === "mlp" ? k.mlp(spec.options) : k.categorical(spec.options));

/** An epoch's figures but its wall time, numbers encoded (the null validation figures stay null). */
const stats = (s) =>
  Object.fromEntries(
    Object.entries(s)
      .filter(([key]) => key !== "time")
      .map(([key, v]) => [key, typeof v === "number" ? encode(v) : v]),
  );

/**
 * Runs f (a fit) while the page counts the event loop's turns: a setTimeout(0) chain, a
 * MessageChannel ping chain and, where the page has scheduler.postTask, one user-blocking task
 * posted by each onBatch call (a chain of those would outrank fit's yields and never let it
 * resume). fit() runs its first batch synchronously, so every turn counted came from its yields.
 * `atBatch` holds the counts each onBatch call saw, and when (performance.now()).
 */
async function countingTurns(f) {
  const postTask = typeof globalThis.scheduler?.postTask === "function";
  const turns = { timeouts: 0, pings: 0, probes: postTask ? 0 : null, atBatch: [] };
  let counting = true;
  const tick = () => {
    if (!counting) return;
    turns.timeouts++;
    setTimeout(tick, 0);
  };
  setTimeout(tick, 0);
  const channel = new MessageChannel();
  channel.port1.onmessage = () => {
    if (!counting) return;
    turns.pings++;
    channel.port2.postMessage(null);
  };
  channel.port2.postMessage(null);
  const onBatch = () => {
    const t = performance.now();
    turns.atBatch.push({ timeouts: turns.timeouts, pings: turns.pings, probes: turns.probes, t });
    if (postTask) {
      globalThis.scheduler.postTask(() => counting && turns.probes++, { priority: "user-blocking" });
    }
  };
  try {
    const value = await f(onBatch);
    // No task runs between fit's resolution and here: these are the turns fit gave.
    return { value, turns: { ...turns, atBatch: [...turns.atBatch] } };
  } finally {
    counting = false;
    channel.port1.close();
  }
}

/** fit() on a fresh model of instance k, and what it gave: figures, result, parameters, predictions. */
async function training(k, run) {
  const model = modelOf(k, run.model);
  try {
    const controller = new AbortController();
    const { value: r, turns } = await countingTurns((onEachBatch) =>
      klcore.fit(model, run.data, {
        ...run.options,
        signal: controller.signal,
        onBatch: (info) => {
          onEachBatch();
          if (run.abortAt && info.epoch === run.abortAt.epoch && info.batch === run.abortAt.batch)
            controller.abort();
        },
      }),
    );
    return {
      value: {
        history: r.history.map(stats),
        result: {
          stoppedEarly: r.stoppedEarly,
          diverged: r.diverged,
          divergedAt: r.divergedAt,
          stopReason: r.stopReason,
          bestEpoch: r.bestEpoch,
        },
        model: model.toJSON(),
        predict: out(model.predict(run.data.x ?? null)),
        threads: r.threads,
      },
      turns,
    };
  } catch (e) {
    return { error: describeError(e) };
  } finally {
    model.dispose();
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
  // The opt-in FMA build (relaxed SIMD ships in Chromium): the fixtures' bounds, not Node's bits.
  const fma = klcore.hasFma() ? await klcore.createInstance({ fma: true }) : null;
  const results = cases.map((c) => ({
    simd: attempt(klcore, c),
    scalar: attempt(scalar, c),
    ...(fma ? { fma: attempt(fma, c) } : {}),
  }));
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
    fmaBackend: fma ? fma.backend() : null,
    results,
    thrown,
    evalBlocked,
  };
}

async function losses() {
  await klcore.init();
  const scalar = await klcore.createInstance({ simd: false });
  const cases = await (await fetch("/loss-cases.json")).json();
  const fma = klcore.hasFma() ? await klcore.createInstance({ fma: true }) : null;
  const results = cases.map((c) => ({
    simd: attemptLoss(klcore, c),
    scalar: attemptLoss(scalar, c),
    ...(fma ? { fma: attemptLoss(fma, c) } : {}),
  }));
  return {
    backend: klcore.backend(),
    scalarBackend: scalar.backend(),
    fmaBackend: fma ? fma.backend() : null,
    results,
  };
}

async function train() {
  await klcore.init();
  const scalar = await klcore.createInstance({ simd: false });
  const runs = await (await fetch("/train-runs.json")).json();
  // A Stop button's case: an abort from a timer (a task, as a click is) must stop a long fit.
  const long = klcore.categorical({ classes: 3 });
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 0);
  const epochs = 100_000;
  const started = performance.now();
  const stopped = await klcore.fit(
    long,
    { y: [0, 1, 2, 1] },
    { epochs, batchSize: 1, signal: controller.signal },
  );
  const timerAbort = {
    stopReason: stopped.stopReason,
    epochs: stopped.history.length,
    of: epochs,
    ms: performance.now() - started,
  };
  long.dispose();
  const results = [];
  for (const run of runs)
    results.push({ simd: await training(klcore, run), scalar: await training(scalar, run) });
  return {
    backend: klcore.backend(),
    scalarBackend: scalar.backend(),
    timerAbort,
    results,
  };
}

// Served cross-origin isolated (COOP and COEP): fit's workers run in Web Workers here.
async function workers() {
  await klcore.init();
  const scalar = await klcore.createInstance({ simd: false });
  const warnings = [];
  const warn = console.warn;
  console.warn = (...args) => {
    warnings.push(args.map(String).join(" "));
    warn(...args);
  };
  try {
    const runs = (await (await fetch("/train-runs.json")).json()).filter((r) => r.options.workers);
    const results = [];
    for (const run of runs)
      results.push({ simd: await training(klcore, run), scalar: await training(scalar, run) });
    const data = { x: runs[0].data.x, y: runs[0].data.y };
    // "auto": the page's cores, at most 8.
    const m = modelOf(klcore, runs[0].model);
    const auto = await klcore.fit(m, data, { epochs: 1, batchSize: 8, workers: "auto" });
    // A worker that throws at its second step: fit rejects, the model keeps the first step's
    // parameters, and the next fit trains.
    const reference = modelOf(klcore, runs[0].model);
    const faulty = modelOf(klcore, runs[0].model);
    const one = { epochs: 1, batchSize: 8, workers: 2, shuffle: false };
    // Rows of x (arrays): the first batch's eight.
    const x8 = data.x.slice(0, 8);
    const y8 = data.y.slice(0, 8);
    await klcore.fit(reference, { x: x8, y: y8 }, one);
    globalThis.KLCORE_WORKER_FAULT = "throw:1:2";
    let rejected = null;
    try {
      await klcore.fit(faulty, data, one);
    } catch (e) {
      rejected = describeError(e);
    }
    globalThis.KLCORE_WORKER_FAULT = "exit:1:1";
    let exited = null;
    try {
      await klcore.fit(modelOf(klcore, runs[0].model), data, one);
    } catch (e) {
      exited = describeError(e);
    }
    delete globalThis.KLCORE_WORKER_FAULT;
    const keptFirstStep = JSON.stringify(faulty.toJSON()) === JSON.stringify(reference.toJSON());
    const after = await klcore.fit(faulty, data, one);
    return {
      isolated: globalThis.crossOriginIsolated === true,
      cores: navigator.hardwareConcurrency,
      results,
      auto: { threads: auto.threads, stopReason: auto.stopReason },
      fault: {
        rejected,
        exited,
        keptFirstStep,
        after: { threads: after.threads, stopReason: after.stopReason },
      },
      warnings,
    };
  } finally {
    console.warn = warn;
  }
}

// Isolated, but the server refuses klcore.worker.js: fit trains on one thread and warns why.
async function noworker() {
  await klcore.init();
  const warnings = [];
  const warn = console.warn;
  console.warn = (...args) => void warnings.push(args.map(String).join(" "));
  try {
    const runs = (await (await fetch("/train-runs.json")).json()).filter((r) => r.options.workers);
    const r = await training(klcore, runs[0]);
    return { isolated: globalThis.crossOriginIsolated === true, trained: r, warnings };
  } finally {
    console.warn = warn;
  }
}

async function vi() {
  await klcore.init();
  const scalar = await klcore.createInstance({ simd: false });
  const results = [];
  for (const run of viRuns) {
    const r = {};
    for (const [build, api] of [
      ["simd", klcore],
      ["scalar", scalar],
    ]) {
      try {
        r[build] = { value: await runVI(api, klcore.adam, run) };
      } catch (e) {
        r[build] = { error: describeError(e) };
      }
    }
    results.push(r);
  }
  // A Stop button's case for fitVI: an abort from a timer stops a long run.
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 0);
  const steps = 1_000_000;
  const target = klcore.targets.gaussian({ mean: [0], covariance: [1] });
  const stopped = await klcore.fitVI(target, { steps, signal: controller.signal, evaluationDraws: 16 });
  return {
    backend: klcore.backend(),
    scalarBackend: scalar.backend(),
    results,
    timerAbort: { stopReason: stopped.stopReason, steps: stopped.steps, of: steps },
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
    const modes = { golden, losses, lazy, train, vi, workers, noworker };
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
