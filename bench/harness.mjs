// The benchmark harness: warm-up, a value check, then samples taken round-robin across all
// contenders of a workload, so that machine noise (other processes, CPU frequency, GC) falls on
// every contender alike. Ratios are taken between samples of the same round and summarised by
// their median, which a few disturbed rounds cannot move.
//
// Each sample is one mitata `measure()` of the contender: mitata times calls with the finest clock
// the engine has, runs a short call many times in one generated loop (so sub-microsecond calls are
// measured without the timer's resolution or a JS loop's overhead in the figure), and awaits
// asynchronous ones. tinybench was the other candidate; it runs each task to completion before the
// next, with no way to interleave contenders, where mitata's measure() is a primitive the
// round-robin can call. Contenders may be asynchronous and may have an untimed `before` hook (e.g.
// switching TF.js's backend) that runs before each of their samples. A contender in another
// process (PyTorch, bench/contenders/torch.mjs) times itself: its `timed(calls)` runs that many
// calls there and resolves to their total ns, so the pipe's latency stays out of its figure.
//
// Nothing here is Node-only, so that a page runs the same harness (bench/browser/page.mjs): the
// machine's description and the commit are in machine.mjs.

import { measure } from "mitata";

/** Defaults for a full run, and for a smoke run (BENCH_QUICK=1 or --quick). */
export const FULL = { samples: 21, targetMs: 5, warmupMs: 150 };
export const QUICK = { samples: 5, targetMs: 1, warmupMs: 20 };

/** Options from the environment and command line: BENCH_QUICK, BENCH_SAMPLES, BENCH_TARGET_MS. */
export function optionsFromEnv(argv = process.argv.slice(2), env = process.env) {
  const quick = argv.includes("--quick") || (env.BENCH_QUICK !== undefined && env.BENCH_QUICK !== "0");
  const base = quick ? QUICK : FULL;
  const num = (v, fallback) => (v !== undefined && Number(v) > 0 ? Number(v) : fallback);
  return {
    quick,
    samples: Math.round(num(env.BENCH_SAMPLES, base.samples)),
    targetMs: num(env.BENCH_TARGET_MS, base.targetMs),
    warmupMs: num(env.BENCH_WARMUP_MS, base.warmupMs),
  };
}

/** The suites, in the order a run takes them (vi runs in Node only). */
export const SUITE_NAMES = ["divergences", "xent", "train", "fit", "vi", "workers"];
// Epochs per training contender: an MLP epoch of TF.js cpu takes about 10 s.
const TRAIN_SAMPLES = { full: 7, quick: 2 };
// A smoke run trains on 2,000 samples instead of 10,000.
const QUICK_TRAINING_SET = 2_000;

function parseSuites(argv) {
  const i = argv.indexOf("--suite");
  const arg = argv.find((a) => a.startsWith("--suite="))?.slice(8) ?? (i >= 0 ? argv[i + 1] : undefined);
  const names = arg ? arg.split(",").map((s) => s.trim()) : SUITE_NAMES;
  for (const n of names)
    if (!SUITE_NAMES.includes(n)) throw new Error(`unknown suite '${n}' (known: ${SUITE_NAMES.join(", ")})`);
  return names;
}

/**
 * A run's settings from the command line and environment: optionsFromEnv's, the training epochs per
 * contender (BENCH_TRAIN_SAMPLES), the suites selected (--suite a,b), and PyTorch's: torch false
 * when BENCH_TORCH=0, torchThreads from BENCH_TORCH_THREADS (default 1, as klcore's one thread).
 */
export function runSettings(argv, env) {
  const opts = optionsFromEnv(argv, env);
  const torchThreads = Number(env.BENCH_TORCH_THREADS) > 0 ? Math.round(Number(env.BENCH_TORCH_THREADS)) : 1;
  const trainSamples =
    Number(env.BENCH_TRAIN_SAMPLES) > 0
      ? Number(env.BENCH_TRAIN_SAMPLES)
      : opts.quick
        ? TRAIN_SAMPLES.quick
        : TRAIN_SAMPLES.full;
  return { ...opts, trainSamples, suites: parseSuites(argv), torch: env.BENCH_TORCH !== "0", torchThreads };
}

/** The options one suite runs with under `settings` (without tf, torch and log). */
export function suiteOptions(name, { quick, samples, targetMs, warmupMs, trainSamples }) {
  return {
    quick,
    samples: name === "train" || name === "workers" ? trainSamples : samples,
    targetMs,
    warmupMs,
    ...((name === "train" || name === "fit" || name === "workers") && quick
      ? { workload: { samples: QUICK_TRAINING_SET } }
      : {}),
  };
}

// Every finite value a contender returned outside the timed loops is added here; callers check it.
// A contender whose answer is NaN (ml-distance on inputs with zeros) is counted apart, so that its
// value shows in the accuracy column instead of poisoning the sink.
let sinkValue = 0;
let nonFiniteValues = 0;

/** The sum of the finite values the contenders returned in their checks (check it is finite, or print it). */
export const sink = () => sinkValue;

/** How many values left out of the sink because they were NaN or infinite. */
export const sinkNonFinite = () => nonFiniteValues;

function toSink(value) {
  if (Number.isFinite(value)) sinkValue += value;
  else nonFiniteValues++;
}

/** Milliseconds of one call (awaited), and its value. */
async function once(fn) {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const summary = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });

// Calibration runs a short call for at least this long; a batch lasts at least MIN_BATCH_MS, 100
// ticks of the 5 µs clock a cross-origin isolated page has.
const CALIBRATE_MS = 2;
const CALIBRATION_WINDOWS = 3;
const MIN_BATCH_MS = 0.5;

/** Calls per mitata batch: a quarter of `targetMs`, a multiple of 4 (its loop is unrolled by 4). */
export function repsFor(msPerCall, targetMs) {
  const reps = Math.ceil(targetMs / 4 / Math.max(msPerCall, 1e-6));
  return Math.min(4 * Math.ceil(reps / 4), 1 << 16);
}

/**
 * ns per call in one round: the median of mitata's batches of `reps` calls over at least
 * `targetMs` (at least 4 batches). A call longer than targetMs is timed alone: batching adds
 * nothing there, and mitata's own warm-up call would double an epoch-long sample.
 * (One mitata batch per round was tried first: the first batch after measure() starts pays for a
 * freshly generated loop and its sample buffer, which tripled a 20 µs call's time.)
 */
async function sample(c, reps, long, targetMs) {
  if (c.before) await c.before();
  if (c.timed) {
    const calls = long ? 1 : reps;
    const ns = await c.timed(calls);
    if (!(ns > 0)) throw new Error(`${c.name}: ${calls} self-timed calls read ${ns} ns`);
    return { ns: ns / calls, calls };
  }
  if (long) {
    const { ms } = await once(c.fn);
    if (!(ms > 0)) throw new Error(`${c.name}: a call timed alone read ${ms} ms`);
    return { ns: ms * 1e6, calls: 1 };
  }
  const stats = await measure(c.fn, {
    min_samples: 4,
    min_cpu_time: targetMs * 1e6,
    gc: false,
    heap: false,
    $counters: false,
    // mitata batches only when its first call took under warmup_threshold (0.5 ms by default): one
    // slow first call (a GC, a busy machine) made it time single calls, which a 5 µs clock reads as
    // 0. runWorkload's calibration decides instead.
    warmup_threshold: Infinity,
    warmup_samples: 1,
    batch_threshold: Infinity,
    batch_samples: reps,
    batch_unroll: 4,
  });
  const batches = stats.samples.length;
  if (stats.ticks !== batches * reps || !(stats.p50 > 0))
    throw new Error(
      `${c.name}: mitata timed ${stats.ticks} calls in ${batches} batches of ${reps} expected, median ${stats.p50} ns`,
    );
  return { ns: stats.p50, calls: stats.ticks };
}

/**
 * ms per call of a self-timed contender, by its own clock: windows of calls lasting CALIBRATE_MS,
 * sized from one call, the least disturbed window kept (as for the others, without the pipe).
 */
async function calibrateTimed(c) {
  if (c.before) await c.before();
  const one = Math.max((await c.timed(1)) / 1e6, 1e-6);
  const calls = Math.min(Math.ceil(CALIBRATE_MS / one), 1 << 16);
  let best = Infinity;
  for (let w = 0; w < CALIBRATION_WINDOWS; w++) {
    if (c.before) await c.before();
    best = Math.min(best, (await c.timed(calls)) / 1e6 / calls);
  }
  return best;
}

/**
 * Times every contender of one workload.
 *   contenders: [{ name, fn, before?, timed? }]: fn() runs the operation once and returns a number
 *               (or a promise of one); before() (optional, untimed) runs before each of its
 *               samples; timed(calls) (optional) runs `calls` calls and resolves to their total ns
 *               by the contender's own clock, which then replaces the harness's for its samples;
 *   baseline:   the name of the contender ratios are taken against;
 *   elements:   elements per call, for the per-element figures;
 *   reference:  the exact value (a float64 reference), for each contender's relative error;
 *   warmupCalls: the least number of untimed calls of each (default 3; 1 for epoch-long calls).
 * Returns per contender its value and relative error, the time per call and per element (median,
 * min, max, in ns), the ratio baseline/contender (a speed-up: > 1 = faster than the baseline) as
 * the median of the per-round ratios, and every sample.
 */
export async function runWorkload({
  name,
  contenders,
  baseline,
  elements = 1,
  reference,
  samples,
  targetMs,
  warmupMs,
  warmupCalls = 3,
}) {
  const base = contenders.findIndex((c) => c.name === baseline);
  if (base < 0) throw new Error(`${name}: no contender named ${baseline}`);

  // The value check doubles as the first warm-up call; then round-robin warm-up until every
  // contender has run for warmupMs (JIT and wasm tier-up, scratch growth) and at least
  // `warmupCalls` calls.
  const values = [];
  const spent = [];
  const fastest = [];
  for (const c of contenders) {
    if (c.before) await c.before();
    const { ms, value } = await once(c.fn);
    if (typeof value !== "number") throw new Error(`${name}: ${c.name} returned ${typeof value}`);
    values.push(value);
    spent.push(ms);
    fastest.push(ms);
    toSink(value);
  }
  for (let calls = 1; calls < warmupCalls || spent.some((ms) => ms < warmupMs); calls++) {
    for (let i = 0; i < contenders.length; i++) {
      if (calls >= warmupCalls && spent[i] >= warmupMs) continue;
      if (contenders[i].before) await contenders[i].before();
      const { ms } = await once(contenders[i].fn);
      spent[i] += ms;
      fastest[i] = Math.min(fastest[i], ms);
    }
  }
  // The fastest warm-up call sizes the samples: one call preempted on a busy machine must not pass
  // for a long one. A short call's time from one call is a few ticks of a coarse clock (5 µs in a
  // cross-origin isolated page, 100 µs otherwise), or 0: time windows of calls spanning many
  // ticks instead, and keep the least disturbed window.
  const perCall = [...fastest];
  for (let i = 0; i < contenders.length; i++) {
    if (fastest[i] >= CALIBRATE_MS) continue;
    const c = contenders[i];
    perCall[i] = Infinity;
    if (c.timed) {
      perCall[i] = await calibrateTimed(c);
      continue;
    }
    for (let w = 0; w < CALIBRATION_WINDOWS; w++) {
      if (c.before) await c.before();
      let calls = 0;
      const t0 = performance.now();
      let elapsed = 0;
      while (elapsed < CALIBRATE_MS) {
        await c.fn();
        calls++;
        elapsed = performance.now() - t0;
      }
      perCall[i] = Math.min(perCall[i], elapsed / calls);
    }
  }
  const long = perCall.map((ms) => ms >= targetMs);
  const reps = perCall.map((ms) => repsFor(ms, Math.max(targetMs, MIN_BATCH_MS * 4)));

  // rounds[r][i]: ns per call of contender i in round r. The starting contender rotates so that
  // none always runs first (right after a switch of data in the caches) or last.
  // calls[r][i]: how many calls that sample timed.
  const rounds = [];
  const calls = [];
  for (let r = 0; r < samples; r++) {
    const row = new Array(contenders.length);
    const timed = new Array(contenders.length);
    for (let j = 0; j < contenders.length; j++) {
      const i = (r + j) % contenders.length;
      ({ ns: row[i], calls: timed[i] } = await sample(contenders[i], reps[i], long[i], targetMs));
    }
    rounds.push(row);
    calls.push(timed);
  }

  const results = contenders.map((c, i) => {
    const ns = rounds.map((row) => row[i]);
    const perCall = summary(ns);
    const value = values[i];
    return {
      name: c.name,
      reps: reps[i],
      value,
      relativeError:
        reference === undefined
          ? null
          : value === reference
            ? 0
            : Math.abs(value - reference) / Math.abs(reference),
      nsPerCall: perCall,
      nsPerElement: {
        median: perCall.median / elements,
        min: perCall.min / elements,
        max: perCall.max / elements,
      },
      speedup: summary(rounds.map((row) => row[base] / row[i])),
      // The least disturbed samples of each: a second opinion when the machine is busy.
      speedupOfMinimums: Math.min(...rounds.map((row) => row[base])) / perCall.min,
      samplesNs: ns,
      callsPerSample: calls.map((timed) => timed[i]),
    };
  });
  return {
    name,
    elements,
    baseline,
    reference: reference ?? null,
    samples,
    targetMs,
    contenders: results,
    rounds,
  };
}

/**
 * The median over rounds of time(a) / time(b) for two contenders of one workload, with the range
 * (for instance validated / unvalidated: 1.05 = 5% more time), and the ratio of their minimums.
 */
export function pairedRatio(result, a, b) {
  const ia = result.contenders.findIndex((c) => c.name === a);
  const ib = result.contenders.findIndex((c) => c.name === b);
  if (ia < 0 || ib < 0) throw new Error(`${result.name}: no contender named ${ia < 0 ? a : b}`);
  const min = (i) => Math.min(...result.rounds.map((row) => row[i]));
  return { ...summary(result.rounds.map((row) => row[ia] / row[ib])), ofMinimums: min(ia) / min(ib) };
}

/** mulberry32: a tiny seeded PRNG with uniform output in [0, 1). */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
