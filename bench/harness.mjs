// A small benchmark harness: warm-up, one calibration per contender, then samples taken
// round-robin across all contenders of a workload, so that machine noise (other processes, CPU
// frequency, GC) falls on every contender alike. Ratios are taken between samples of the same
// round and summarised by their median, which a few disturbed rounds cannot move.

import { execFileSync } from "node:child_process";
import os from "node:os";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));

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

// Every result is added here, so no call can be removed as dead code; callers print or check it.
let sinkValue = 0;

/** The sum of every value the contenders returned (check it is finite, or print it). */
export const sink = () => sinkValue;

/** Milliseconds for `reps` calls of `fn`; the results go to the sink. */
function time(fn, reps) {
  let acc = 0;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) acc += fn();
  const t1 = performance.now();
  sinkValue += acc;
  return t1 - t0;
}

/** Repetitions that make one sample last at least `targetMs`. */
function calibrate(fn, targetMs) {
  let reps = 1;
  for (;;) {
    // The fastest of three: one preemption by another process must not pass for a long sample.
    const ms = Math.min(time(fn, reps), time(fn, reps), time(fn, reps));
    if (ms >= targetMs) return reps;
    // Jump close to the target once the measurement is long enough to trust, else double.
    reps = ms > targetMs / 8 ? Math.ceil((reps * targetMs * 1.1) / ms) : reps * 2;
  }
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const summary = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });

/**
 * Times every contender of one workload.
 *   contenders: [{ name, fn }] where fn() runs the operation once and returns a number;
 *   baseline:   the name of the contender ratios are taken against;
 *   elements:   elements per call, for the per-element figures.
 * Returns per contender the time per call and per element (median, min, max, in ns), the ratio
 * baseline/contender (a speed-up: > 1 = faster than the baseline) as the median of the per-round
 * ratios, and every sample.
 */
export function runWorkload({ name, contenders, baseline, elements = 1, samples, targetMs, warmupMs }) {
  const base = contenders.findIndex((c) => c.name === baseline);
  if (base < 0) throw new Error(`${name}: no contender named ${baseline}`);

  // Warm-up: round-robin until every contender has run for warmupMs (JIT and wasm tier-up, scratch
  // growth), each at least a few calls.
  const spent = contenders.map(() => 0);
  for (let calls = 0; calls < 3 || spent.some((ms) => ms < warmupMs); calls++) {
    contenders.forEach((c, i) => {
      if (calls < 3 || spent[i] < warmupMs) spent[i] += time(c.fn, 1);
    });
  }
  const reps = contenders.map((c) => calibrate(c.fn, targetMs));

  // rounds[r][i]: ns per call of contender i in round r. The starting contender rotates so that
  // none always runs first (right after a switch of data in the caches) or last.
  const rounds = [];
  for (let r = 0; r < samples; r++) {
    const row = new Array(contenders.length);
    for (let j = 0; j < contenders.length; j++) {
      const i = (r + j) % contenders.length;
      row[i] = (time(contenders[i].fn, reps[i]) * 1e6) / reps[i];
    }
    rounds.push(row);
  }

  const results = contenders.map((c, i) => {
    const ns = rounds.map((row) => row[i]);
    const perCall = summary(ns);
    const ratios = rounds.map((row) => row[base] / row[i]);
    return {
      name: c.name,
      reps: reps[i],
      nsPerCall: perCall,
      nsPerElement: {
        median: perCall.median / elements,
        min: perCall.min / elements,
        max: perCall.max / elements,
      },
      speedup: summary(ratios),
      // The least disturbed samples of each: a second opinion when the machine is busy.
      speedupOfMinimums: Math.min(...rounds.map((row) => row[base])) / perCall.min,
      samplesNs: ns,
    };
  });
  return { name, elements, baseline, samples, targetMs, contenders: results, rounds };
}

/**
 * runWorkload for long operations, possibly asynchronous (fn returns a number or a promise of one):
 * `warmup` untimed calls of each contender, then `samples` rounds of one timed call each,
 * round-robin with the starting contender rotating. Same result shape as runWorkload (reps 1).
 */
export async function runRounds({ name, contenders, baseline, elements = 1, samples, warmup = 1 }) {
  const base = contenders.findIndex((c) => c.name === baseline);
  if (base < 0) throw new Error(`${name}: no contender named ${baseline}`);
  const once = async (fn) => {
    const t0 = performance.now();
    const value = await fn();
    const ms = performance.now() - t0;
    sinkValue += value;
    return ms;
  };
  for (let w = 0; w < warmup; w++) for (const c of contenders) await once(c.fn);
  const rounds = [];
  for (let r = 0; r < samples; r++) {
    const row = new Array(contenders.length);
    for (let j = 0; j < contenders.length; j++) {
      const i = (r + j) % contenders.length;
      row[i] = (await once(contenders[i].fn)) * 1e6;
    }
    rounds.push(row);
  }
  const results = contenders.map((c, i) => {
    const ns = rounds.map((row) => row[i]);
    const perCall = summary(ns);
    return {
      name: c.name,
      reps: 1,
      nsPerCall: perCall,
      nsPerElement: {
        median: perCall.median / elements,
        min: perCall.min / elements,
        max: perCall.max / elements,
      },
      speedup: summary(rounds.map((row) => row[base] / row[i])),
      speedupOfMinimums: Math.min(...rounds.map((row) => row[base])) / perCall.min,
      samplesNs: ns,
    };
  });
  return { name, elements, baseline, samples, targetMs: null, contenders: results, rounds };
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

// ---- the machine -----------------------------------------------------------------------------

function gitCommit() {
  try {
    const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: HERE, encoding: "utf8" }).trim();
    // --no-optional-locks: read only, never touch the index of a repository others work in.
    const status = execFileSync(
      "git",
      ["--no-optional-locks", "status", "--porcelain", "--untracked-files=no"],
      { cwd: HERE, encoding: "utf8" },
    );
    return { commit, dirty: status.trim() !== "" };
  } catch {
    return { commit: null, dirty: null };
  }
}

export function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    totalMemoryBytes: os.totalmem(),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.versions.node,
    v8: process.versions.v8,
    date: new Date().toISOString(),
    ...gitCommit(),
    loadAverageAtStart: os.loadavg(),
  };
}
