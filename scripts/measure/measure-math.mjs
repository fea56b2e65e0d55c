// Measures the vector math helpers of assembly/math/ through the test-only probe (build/probe.wasm):
// the maximum error in ulp of each function over its domain, and the throughput of each map_*
// next to a plain JS loop.
//
// Error is |y - exact| / ulp(exact), fractional, where ulp(v) is the spacing of the result format
// in the binade of the exact value v (as the ulp tool of Arm's optimized-routines does):
// - float32 logf/expf/log1pf/expm1mxf: EVERY float32 of the domain; exact = Math.log/Math.exp/
//   Math.log1p or the Taylor series of e^x - 1 - x in float64. Their own error (<= 2 ulp of
//   float64) is 2^-28 ulp of float32: a near-exact reference.
// - float64 log/exp/log1p: the samples of scripts/data/math-reference.py (numpy.longdouble, x87 80-bit,
//   stored as a double-double; within 0.002 ulp of float64 of mpmath at 120 bits), made here if
//   build/math-ref/ is missing.
//
// Usage: node scripts/measure/measure-math.mjs [--quick] [--full] [--no-accuracy] [--no-bench]
//   --quick  every 61st float32 instead of all of them (seconds instead of minutes)
//   --full   also logf over every positive normal float32
// Build the probe first:
//   npx asc assembly/probe.ts --config /dev/null --enable simd -O3 --runtime minimal --noAssert --outFile build/probe.wasm

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const PROBE = join(root, "build/probe.wasm");
const REF_DIR = join(root, "build/math-ref");
const CHUNK = 1 << 20; // float32 patterns per wasm call

function loadProbe() {
  if (!existsSync(PROBE)) {
    throw new Error(`${PROBE} is missing: build it first (see the comment at the top of this script)`);
  }
  const module = new WebAssembly.Module(readFileSync(PROBE));
  const imports = {
    env: {
      abort: () => {
        throw new Error("abort called in probe.wasm");
      },
    },
  };
  return new WebAssembly.Instance(module, imports).exports;
}

// Scratch views to read the binade of a float64.
const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
// ULP32[e] / ULP64[e]: ulp of float32 / float64 in the binade of a double with biased exponent e
// (clamped to the subnormal spacing below the normal range).
const ULP32 = Float64Array.from({ length: 2048 }, (_, e) => 2 ** Math.max(e - 1023 - 23, -149));
const ULP64 = Float64Array.from({ length: 2048 }, (_, e) => 2 ** Math.max(e - 1023 - 52, -1074));

function binade(v) {
  F64[0] = v;
  return (U32[1] >>> 20) & 0x7ff;
}

// ---------------------------------------------------------------------------------------------
// float32: every pattern of a range of bit patterns, in chunks spread over worker threads.

// e^x - 1 - x for |x| <= 1/2 in float64: the Taylor series to x^18/18!, within 2 ulp of float64.
function expm1mx(x) {
  let s = 1 / 6402373705728000; // 1/18!
  for (let k = 17; k >= 2; k--) {
    let f = 1;
    for (let i = 2; i <= k; i++) f *= i;
    s = s * x + 1 / f;
  }
  return x * x * s;
}

const F32_FUNCS = {
  logf: { map: "map_logf", ref: Math.log, refName: "Math.log" },
  log1pf: { map: "map_log1pf", ref: Math.log1p, refName: "Math.log1p" },
  expf: { map: "map_expf", ref: Math.exp, refName: "Math.exp" },
  expm1mxf: { map: "map_expm1mxf", ref: expm1mx, refName: "the series" },
};

// Runs in a worker: scans the chunks [start, end] (inclusive u32 bit patterns) given to it.
// kind "ulp": measure the error; kind "inf" / "zero": count lanes that are not +inf / +0.
function scanChunks({ fn, chunks, stride }) {
  const probe = loadProbe();
  const { map, ref } = F32_FUNCS[fn];
  const src = probe.alloc(CHUNK * 4);
  const dst = probe.alloc(CHUNK * 4);
  const results = [];
  for (const { start, end, kind, domain } of chunks) {
    const srcBits = new Uint32Array(probe.memory.buffer, src, CHUNK);
    const srcF = new Float32Array(probe.memory.buffer, src, CHUNK);
    const dstF = new Float32Array(probe.memory.buffer, dst, CHUNK);
    const dstBits = new Uint32Array(probe.memory.buffer, dst, CHUNK);
    for (let b = start; b <= end;) {
      const m = Math.min(CHUNK, Math.floor((end - b) / stride) + 1);
      for (let i = 0; i < m; i++) srcBits[i] = b + i * stride;
      const padded = (m + 3) & ~3;
      for (let i = m; i < padded; i++) srcBits[i] = srcBits[0];
      probe[map](src, dst, padded);
      b += m * stride;
      results.push(
        kind === "ulp" ? ulpChunk(srcF, dstF, m, ref, domain) : specialChunk(srcF, dstBits, m, kind, domain),
      );
    }
  }
  probe.dealloc(src);
  probe.dealloc(dst);
  return results;
}

function ulpChunk(srcF, dstF, m, ref, domain) {
  let max = 0;
  let at = 0;
  let n = 0;
  for (let i = 0; i < m; i++) {
    const x = srcF[i];
    const exact = ref(x);
    const y = dstF[i];
    const err = exact === 0 ? (y === 0 ? 0 : Infinity) : Math.abs(y - exact) / ULP32[binade(exact)];
    if (!(err <= max)) {
      max = err;
      at = i;
    }
    n++;
  }
  return { domain, kind: "ulp", n, max, x: srcF[at], y: dstF[at], exact: ref(srcF[at]) };
}

function specialChunk(srcF, dstBits, m, kind, domain) {
  const want = kind === "inf" ? 0x7f800000 : 0;
  let wrong = 0;
  let x = NaN;
  let n = 0;
  for (let i = 0; i < m; i++) {
    if (dstBits[i] !== want) {
      wrong++;
      x = srcF[i];
    }
    n++;
  }
  return { domain, kind, n, wrong, x };
}

function f32Bits(v) {
  const f = new Float32Array([v]);
  return new Uint32Array(f.buffer)[0];
}

// Smallest float32 > v (v > 0) and largest float32 < v.
function f32Above(v) {
  const b = f32Bits(v);
  return new Float32Array(new Uint32Array([b]).buffer)[0] > v ? b : b + 1;
}
function f32Below(v) {
  const b = f32Bits(v);
  return new Float32Array(new Uint32Array([b]).buffer)[0] < v ? b : b - 1;
}

function f32Domains(full) {
  const one = f32Bits(1);
  const domains = {
    logf: [
      { domain: "(1e-30, 1]", start: f32Above(1e-30), end: one, kind: "ulp" },
      { domain: "[1, 1e30)", start: one, end: f32Below(1e30), kind: "ulp" },
    ],
    log1pf: [
      // (-1, 1] holds every x of binary cross-entropy's log1p(exp(-|z|)) and more.
      { domain: "(-1, -0]", start: 0x80000000, end: f32Below(-1), kind: "ulp" },
      { domain: "[+0, 1]", start: 0x00000000, end: one, kind: "ulp" },
      { domain: "(1, 1e30)", start: one + 1, end: f32Below(1e30), kind: "ulp" },
    ],
    expm1mxf: [
      { domain: "[-1/2, -0]", start: 0x80000000, end: 0xbf000000, kind: "ulp" },
      { domain: "[+0, 1/2]", start: 0x00000000, end: 0x3f000000, kind: "ulp" },
    ],
    expf: [
      // Fast domain: 0xC2AEAC4F (-87.33654) .. 0x42B17217 (88.72283), -0 and +0 included.
      { domain: "[-87.33654, -0]", start: 0x80000000, end: 0xc2aeac4f, kind: "ulp" },
      { domain: "[+0, 88.72283]", start: 0x00000000, end: 0x42b17217, kind: "ulp" },
      { domain: "(88.72283, +inf] gives +inf", start: 0x42b17218, end: 0x7f800000, kind: "inf" },
      { domain: "[-inf, -87.33654) gives +0", start: 0xc2aeac50, end: 0xff800000, kind: "zero" },
    ],
  };
  if (full) {
    domains.logf.push({ domain: "every positive normal", start: 0x00800000, end: 0x7f7fffff, kind: "ulp" });
  }
  return domains;
}

async function measureF32(fn, domains, stride) {
  // Chunks of CHUNK * stride patterns, dealt round-robin to the workers.
  const chunks = [];
  for (const d of domains) {
    for (let b = d.start; b <= d.end; b += CHUNK * stride) {
      chunks.push({ ...d, start: b, end: Math.min(d.end, b + CHUNK * stride - 1) });
    }
  }
  const workers = Math.max(1, Math.min(availableParallelism(), 8));
  const parts = Array.from({ length: workers }, (_, w) => chunks.filter((_, i) => i % workers === w));
  const results = (
    await Promise.all(
      parts.map(
        (part) =>
          new Promise((resolve, reject) => {
            const worker = new Worker(fileURLToPath(import.meta.url), {
              workerData: { fn, chunks: part, stride },
            });
            worker.once("message", resolve);
            worker.once("error", reject);
          }),
      ),
    )
  ).flat();
  return domains.map(({ domain, kind }) => {
    const mine = results.filter((r) => r.domain === domain);
    const n = mine.reduce((s, r) => s + r.n, 0);
    if (kind === "ulp") {
      const worst = mine.reduce((a, r) => (r.max > a.max ? r : a), { max: -1 });
      return { ...worst, domain, n };
    }
    const wrong = mine.reduce((s, r) => s + r.wrong, 0);
    return { domain, kind, n, wrong, x: mine.find((r) => r.wrong)?.x };
  });
}

// ---------------------------------------------------------------------------------------------
// float64: the reference samples.

function measureF64(probe, name, map) {
  const index = JSON.parse(readFileSync(join(REF_DIR, "index.json"), "utf8"));
  const raw = readFileSync(join(REF_DIR, `${name}.f64`));
  const data = new Float64Array(raw.buffer, raw.byteOffset, raw.byteLength / 8);
  const total = data.length / 3;
  const chunk = 1 << 18;
  const src = probe.alloc(chunk * 8);
  const dst = probe.alloc(chunk * 8);
  const err = new Float64Array(total);
  const y = new Float64Array(total);
  for (let s = 0; s < total; s += chunk) {
    const m = Math.min(chunk, total - s);
    const padded = (m + 1) & ~1;
    const srcF = new Float64Array(probe.memory.buffer, src, chunk);
    const dstF = new Float64Array(probe.memory.buffer, dst, chunk);
    for (let i = 0; i < m; i++) srcF[i] = data[3 * (s + i)];
    if (padded > m) srcF[m] = srcF[0];
    probe[map](src, dst, padded);
    for (let i = 0; i < m; i++) {
      const k = 3 * (s + i);
      const hi = data[k + 1];
      const lo = data[k + 2];
      y[s + i] = dstF[i];
      // y - hi is exact (Sterbenz) when y is near hi.
      err[s + i] =
        hi === 0 ? (dstF[i] === 0 ? 0 : Infinity) : Math.abs(dstF[i] - hi - lo) / ULP64[binade(hi)];
    }
  }
  probe.dealloc(src);
  probe.dealloc(dst);
  let offset = 0;
  return index[name].map(({ name: group, count }) => {
    let max = -1;
    let at = offset;
    for (let i = offset; i < offset + count; i++) {
      if (!(err[i] <= max)) {
        max = err[i];
        at = i;
      }
    }
    offset += count;
    return {
      domain: group,
      n: count,
      max,
      x: data[3 * at],
      y: y[at],
      exact: data[3 * at + 1] + data[3 * at + 2],
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Throughput.

function jsLogF32(src, dst, n) {
  for (let i = 0; i < n; i++) dst[i] = Math.log(src[i]);
}
function jsLogF64(src, dst, n) {
  for (let i = 0; i < n; i++) dst[i] = Math.log(src[i]);
}
function jsExpF32(src, dst, n) {
  for (let i = 0; i < n; i++) dst[i] = Math.exp(src[i]);
}
function jsExpF64(src, dst, n) {
  for (let i = 0; i < n; i++) dst[i] = Math.exp(src[i]);
}

// Median ns per element over `samples` timings, each repeating `run` for at least ~20 ms.
function timePerElement(run, n, samples = 15) {
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) run();
    if (performance.now() - t0 > 20) break;
    reps *= 2;
  }
  const times = [];
  for (let s = 0; s < samples; s++) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) run();
    times.push(((performance.now() - t0) * 1e6) / (reps * n));
  }
  times.sort((a, b) => a - b);
  return times[samples >> 1];
}

function bench(probe) {
  const rows = [];
  let seed = 12345;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (const n of [1 << 12, 1 << 16, 1 << 20]) {
    const cases = [
      {
        name: "log  f32",
        map: "map_logf",
        js: jsLogF32,
        T: Float32Array,
        gen: () => 10 ** (12 * rand() - 6),
      },
      { name: "log  f64", map: "map_log", js: jsLogF64, T: Float64Array, gen: () => 10 ** (12 * rand() - 6) },
      { name: "exp  f32", map: "map_expf", js: jsExpF32, T: Float32Array, gen: () => 100 * rand() - 50 },
      { name: "exp  f64", map: "map_exp", js: jsExpF64, T: Float64Array, gen: () => 100 * rand() - 50 },
    ];
    for (const c of cases) {
      const bytes = n * c.T.BYTES_PER_ELEMENT;
      const src = probe.alloc(bytes);
      const dst = probe.alloc(bytes);
      // Views derived after the last allocation (growth detaches earlier ones).
      const srcView = new c.T(probe.memory.buffer, src, n);
      for (let i = 0; i < n; i++) srcView[i] = c.gen();
      const jsSrc = c.T.from(srcView);
      const jsDst = new c.T(n);
      const map = probe[c.map];
      const wasm = timePerElement(() => map(src, dst, n), n);
      const js = timePerElement(() => c.js(jsSrc, jsDst, n), n);
      rows.push({ n, name: c.name, wasm, js });
      probe.dealloc(src);
      probe.dealloc(dst);
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------

function fmtUlp(r) {
  return `${r.max.toFixed(3).padStart(7)} ulp  at x = ${r.x} (y = ${r.y}, exact ${r.exact})`;
}

function printUlp(title, rows) {
  console.log(title);
  for (const r of rows) {
    const n = String(r.n).padStart(11);
    if (r.kind === "inf" || r.kind === "zero") {
      console.log(
        `  ${r.domain.padEnd(46)} ${n} values: ${r.wrong === 0 ? "all right" : `${r.wrong} WRONG, e.g. x = ${r.x}`}`,
      );
    } else {
      console.log(`  ${r.domain.padEnd(46)} ${n} values: max ${fmtUlp(r)}`);
    }
  }
}

async function main() {
  const args = new Set(process.argv.slice(2));
  const probe = loadProbe();
  console.log(`node ${process.version}, ${availableParallelism()} threads, probe ${PROBE}`);
  if (!args.has("--no-accuracy")) {
    const stride = args.has("--quick") ? 61 : 1;
    const domains = f32Domains(args.has("--full"));
    const every = stride === 1 ? "every float32" : `1 in ${stride} float32`;
    for (const fn of ["logf", "expf", "log1pf", "expm1mxf"]) {
      const t0 = performance.now();
      const rows = await measureF32(fn, domains[fn], stride);
      printUlp(
        `${fn} (${fn}4), ${every}, reference ${F32_FUNCS[fn].refName} in float64 [${((performance.now() - t0) / 1000).toFixed(1)} s]`,
        rows,
      );
    }
    const index = join(REF_DIR, "index.json");
    if (!existsSync(index) || !JSON.parse(readFileSync(index, "utf8")).log1p) {
      execFileSync("python3", [join(root, "scripts/data/math-reference.py")], { stdio: "inherit" });
    }
    printUlp("log (log2d), float64 samples, reference numpy.longdouble", measureF64(probe, "log", "map_log"));
    printUlp("exp (exp2d), float64 samples, reference numpy.longdouble", measureF64(probe, "exp", "map_exp"));
    printUlp(
      "log1p (log1p2d), float64 samples, reference numpy.longdouble",
      measureF64(probe, "log1p", "map_log1p"),
    );
  }
  if (!args.has("--no-bench")) {
    console.log("throughput, ns per element (median of 15), inputs: log 10^U(-6,6), exp U(-50,50)");
    console.log("        n  function    probe map_*   JS loop (Math.*)   speed-up");
    for (const r of bench(probe)) {
      console.log(
        `${String(r.n).padStart(9)}  ${r.name}   ${r.wasm.toFixed(3).padStart(10)}   ${r.js.toFixed(3).padStart(16)}   ${(r.js / r.wasm).toFixed(1).padStart(7)}x`,
      );
    }
  }
}

if (isMainThread) {
  await main();
} else {
  parentPort.postMessage(scanChunks(workerData));
}
