// Checks the peer contenders before the harness times them: each value next to a float64 reference in
// plain JavaScript, with its relative error, on both TF.js backends; one training epoch of TF.js from
// the JavaScript reference trainer's weights and batches, with the largest parameter difference; that
// memory stays flat (tf.memory().numTensors) over many calls; then rough timings (a few repetitions,
// medians) to know the order of magnitude. The harness does the real benchmark.
// Usage: node bench/contenders/check.mjs [--no-timing]

import { mulberry32 } from "../harness.mjs";
import {
  distribution,
  largestDifference,
  reference,
  relativeError as relErr,
} from "../reference/kernels.mjs";
import { JsAdam, JsMlp, epochOrder, jsTrainer, teacherData } from "../reference/train.mjs";
import { mlJs, mlKl } from "./mldistance.mjs";
import {
  loadTf,
  tfEntropy,
  tfJsDivergence,
  tfKl,
  tfKlBuiltin,
  tfParameters,
  tfTrainEpoch,
  tfXentWithGrad,
  useBackend,
  wasmBinary,
} from "./tfjs.mjs";

const TIMING = !process.argv.includes("--no-timing");
const BACKENDS = ["cpu", "wasm"];
// The seeds of bench/suites/divergences.mjs and bench/suites/xent.mjs: the first inputs drawn are theirs.
const KL_SEED = 0x5eed1234;
const XENT_SEED = 0x0c0ffee;

// ---- inputs and float64 references (bench/reference/kernels.mjs, the suites' own) ------------

const { kl: refKl, entropy: refEntropy, jsDivergence: refJs, xent: refXent } = reference;

// ---- printing and timing ---------------------------------------------------------------------

const fmt = (v) => (Number.isFinite(v) ? v.toPrecision(10) : String(v));
const fmtErr = (e) => (Number.isNaN(e) ? "NaN" : e.toExponential(2));
const row = (cells, widths) => cells.map((c, i) => String(c).padEnd(widths[i])).join("  ");
const KW = [34, 8, 18, 18, 10];
function header() {
  console.log(row(["contender", "backend", "value", "float64 reference", "rel. error"], KW));
}
function line(name, backend, value, reference) {
  console.log(row([name, backend, fmt(value), fmt(reference), fmtErr(relErr(value, reference))], KW));
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Median ms per call: `warmup` untimed calls, then `reps` samples of `inner` calls each. */
async function timeIt(fn, { warmup = 3, reps = 7, inner = 1 } = {}) {
  let sink = 0;
  for (let i = 0; i < warmup; i++) sink += await fn();
  const ms = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let i = 0; i < inner; i++) sink += await fn();
    ms.push((performance.now() - t0) / inner);
  }
  return { ms: median(ms), sink };
}

const tf = await loadTf("cpu");
const failures = [];
const expect = (ok, what) => {
  if (!ok) failures.push(what);
};

/** Runs fn `calls` times and checks the tensor count did not move. */
function flat(name, backend, fn, calls = 200) {
  fn();
  const before = tf.memory().numTensors;
  for (let i = 0; i < calls; i++) fn();
  const after = tf.memory().numTensors;
  expect(after === before, `${name} (${backend}): numTensors ${before} -> ${after}`);
  return after - before;
}

// ---- the setup -------------------------------------------------------------------------------

await useBackend(tf, "wasm");
const bin = await wasmBinary(tf);
console.log(
  `TF.js ${tf.version.tfjs}; wasm backend binary: ${bin.file} (SIMD ${bin.simd}, threads ${bin.threads})`,
);
console.log(`backend epsilon: ${tf.backend().epsilon()} (wasm), used by the built-in KL's clipping`);
await useBackend(tf, "cpu");
console.log(`backend epsilon: ${tf.backend().epsilon()} (cpu)`);

// ---- kernels at n = 1000 ---------------------------------------------------------------------

const N = 1000;
const rand = mulberry32(KL_SEED);
const p64 = distribution(rand, N, 0.1);
const q64 = distribution(rand, N, 0);
const p32 = Float32Array.from(p64);
const q32 = Float32Array.from(q64);
const zerosInP = p64.filter((v) => v === 0).length;
console.log(`\nn = ${N}: ${zerosInP} zeros in p, none in q (the divergence suite's generator and seed)`);

const kernels = [
  ["KL masked (tfKl)", (p, q) => tfKl(tf, p, q), refKl],
  ["KL built-in (tfKlBuiltin)", (p, q) => tfKlBuiltin(tf, p, q), refKl],
  ["entropy (tfEntropy)", (p) => tfEntropy(tf, p), (p) => refEntropy(p)],
  ["JS divergence (tfJsDivergence)", (p, q) => tfJsDivergence(tf, p, q), refJs],
];
for (const [label, p, q] of [
  ["float32 inputs (reference on the same float32 values)", p32, q32],
  ["float64 inputs (TF.js rounds them to float32 in the factory)", p64, q64],
]) {
  console.log(`\n${label}`);
  header();
  for (const backend of BACKENDS) {
    await useBackend(tf, backend);
    for (const [name, make, ref] of kernels) {
      const fn = make(p, q);
      const v = fn();
      const r = ref(p, q);
      line(name, backend, v, r);
      expect(relErr(v, r) < 1e-4, `${name} ${backend}: relative error ${relErr(v, r)}`);
      flat(name, backend, fn);
      fn.dispose();
    }
  }
  for (const [name, make, ref] of [
    ["ml-distance kullbackLeibler (mlKl)", mlKl, refKl],
    ["ml-distance jensenShannon (mlJs)", mlJs, refJs],
  ]) {
    line(name, "-", make(p, q)(), ref(p, q));
  }
}

// ml-distance on inputs without zeros: is it the same quantity?
const pNoZero = distribution(rand, N, 0);
console.log("\nml-distance on a p without zeros (float64)");
header();
line("ml-distance kullbackLeibler (mlKl)", "-", mlKl(pNoZero, q64)(), refKl(pNoZero, q64));
line("ml-distance jensenShannon (mlJs)", "-", mlJs(pNoZero, q64)(), refJs(pNoZero, q64));
expect(relErr(mlKl(pNoZero, q64)(), refKl(pNoZero, q64)) < 1e-12, "ml-distance KL is not the natural-log KL");
expect(relErr(mlJs(pNoZero, q64)(), refJs(pNoZero, q64)) < 1e-12, "ml-distance JS is not the JS divergence");

// The traps of SEMANTICS.md: q = 0 where p > 0 (exact KL: +inf), and a zero in p (exact: ln 2).
console.log("\nzeros: [.5, .5] || [1, 0] (exact +inf); [1, 0] || [.5, .5] (exact ln 2 = 0.6931471806)");
for (const backend of BACKENDS) {
  await useBackend(tf, backend);
  for (const [name, make] of [
    ["tfKl", tfKl],
    ["tfKlBuiltin", tfKlBuiltin],
  ]) {
    const a = make(tf, [0.5, 0.5], [1, 0]);
    const b = make(tf, [1, 0], [0.5, 0.5]);
    console.log(`  ${name} (${backend}): ${fmt(a())}; ${fmt(b())}`);
    a.dispose();
    b.dispose();
  }
}
console.log(`  mlKl: ${fmt(mlKl([0.5, 0.5], [1, 0])())}; ${fmt(mlKl([1, 0], [0.5, 0.5])())}`);
console.log(`  mlJs([1, 0], [.5, .5]) (exact 0.2157615544): ${fmt(mlJs([1, 0], [0.5, 0.5])())}`);

// ---- cross-entropy with its gradient ---------------------------------------------------------

const xrand = mulberry32(XENT_SEED);
const SHAPES = [
  [256, 10],
  [64, 1000],
];
const xentInputs = SHAPES.map(([rows, c]) => {
  const z = Float32Array.from({ length: rows * c }, () => (xrand() - 0.5) * 8);
  const y = Int32Array.from({ length: rows }, () => Math.floor(xrand() * c));
  return { rows, c, z, y, ref: refXent(z, y, rows, c) };
});
console.log(
  "\nsoftmax cross-entropy + gradient (tfXentWithGrad), float32 logits; gradient error: max |diff| / max |ref|",
);
console.log(
  row(
    ["batch", "backend", "loss", "float64 reference", "rel. error", "gradient error"],
    [10, 8, 18, 18, 10, 14],
  ),
);
for (const backend of BACKENDS) {
  await useBackend(tf, backend);
  for (const { rows, c, z, y, ref } of xentInputs) {
    const fn = tfXentWithGrad(tf, z, y, rows, c);
    const loss = fn();
    const g = largestDifference([fn.gradient()], [ref.grad]);
    console.log(
      row(
        [`${rows}x${c}`, backend, fmt(loss), fmt(ref.loss), fmtErr(relErr(loss, ref.loss)), fmtErr(g)],
        [10, 8, 18, 18, 10, 14],
      ),
    );
    expect(
      relErr(loss, ref.loss) < 1e-5 && g < 1e-5,
      `crossEntropyWithLogits ${rows}x${c} ${backend}: loss ${loss}, gradient ${g}`,
    );
    flat(`crossEntropyWithLogits ${rows}x${c}`, backend, fn);
    fn.dispose();
  }
}

// ---- one training epoch against the JavaScript reference --------------------------------------

const MODEL_SEED = 42;
const SHUFFLE_SEED = 7;
const LEARNING_RATE = 1e-3;

/** One TF.js epoch and one reference epoch from the same weights and batches. */
async function compareEpoch(backend, { samples, inputs, hidden, classes, batchSize }) {
  await useBackend(tf, backend);
  const data = teacherData({ samples, inputs, classes, seed: 0x7a1d });
  const js = new JsMlp({ inputs, hidden, classes, seed: MODEL_SEED });
  const weights = js.parameters().map((w) => Float32Array.from(w));
  const jsEpoch = jsTrainer(js, new JsAdam({ learningRate: LEARNING_RATE }), data, {
    batchSize,
    seed: SHUFFLE_SEED,
  });
  const order = epochOrder(samples, SHUFFLE_SEED);
  const epoch = tfTrainEpoch(tf, {
    inputs,
    hidden,
    classes,
    weights,
    ...data,
    batchSize,
    learningRate: LEARNING_RATE,
    order,
  });
  const before = tf.memory().numTensors;
  const tfLoss = await epoch();
  const jsLoss = jsEpoch();
  const diff = largestDifference(tfParameters(epoch), js.parameters());
  // A second epoch: the tensor count must not grow once Adam's moments exist.
  const afterFirst = tf.memory().numTensors;
  await epoch();
  const growth = tf.memory().numTensors - afterFirst;
  const label = `${samples}x${inputs}, ${[inputs, ...hidden, classes].join("-")}, batch ${batchSize}`;
  console.log(
    `  ${backend.padEnd(4)} ${label}: loss sum ${fmt(tfLoss)} (JS ${fmt(jsLoss)}, rel. ${fmtErr(relErr(tfLoss, jsLoss))}); ` +
      `largest parameter difference ${fmtErr(diff)} of the array's scale; tensors ${before} -> ${afterFirst} ` +
      `(Adam's moments) -> +${growth} after a second epoch`,
  );
  expect(diff < 1e-3 && relErr(tfLoss, jsLoss) < 1e-4, `training ${backend} ${label}: ${diff}`);
  expect(growth === 0, `training ${backend}: ${growth} tensors more after an epoch`);
  epoch.dispose();
}

console.log(`\none epoch, TF.js (tfTrainEpoch) against bench/reference/train.mjs, Adam lr ${LEARNING_RATE}`);
for (const backend of BACKENDS) {
  for (const hidden of [[32], []]) {
    await compareEpoch(backend, { samples: 512, inputs: 64, hidden, classes: 10, batchSize: 64 });
  }
}

// ---- rough timings ---------------------------------------------------------------------------

if (TIMING) {
  const ms = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  const M = 1e6;
  const big = mulberry32(KL_SEED);
  const P = Float32Array.from(distribution(big, M, 0.1));
  const Q = Float32Array.from(distribution(big, M, 0));
  const jsLoop = (p, q) => {
    let s = 0;
    for (let i = 0; i < p.length; i++) if (p[i] > 0) s += p[i] * Math.log(p[i] / q[i]);
    return s;
  };
  const refs = { kl: refKl(P, Q), entropy: refEntropy(P), js: refJs(P, Q) };
  console.log(`\nrough timings, n = 1e6 float32 (median ms per call; value's relative error vs float64)`);
  const report = (name, backend, t, v, ref) =>
    console.log(
      `  ${name.padEnd(34)} ${backend.padEnd(5)} ${ms(t).padStart(8)} ms   rel. error ${fmtErr(relErr(v, ref))}`,
    );
  const js = await timeIt(() => jsLoop(P, Q), { reps: 9 });
  report("JS loop (the harness's baseline)", "-", js.ms, jsLoop(P, Q), refs.kl);
  for (const [name, make, ref] of [
    ["mlKl", mlKl, refs.kl],
    ["mlJs", mlJs, refs.js],
  ]) {
    const fn = make(P, Q);
    report(name, "-", (await timeIt(fn, { reps: 9 })).ms, fn(), ref);
  }
  for (const backend of BACKENDS) {
    await useBackend(tf, backend);
    for (const [name, make, ref] of [
      ["tfKl", (p, q) => tfKl(tf, p, q), refs.kl],
      ["tfKlBuiltin", (p, q) => tfKlBuiltin(tf, p, q), refs.kl],
      ["tfEntropy", (p) => tfEntropy(tf, p), refs.entropy],
      ["tfJsDivergence", (p, q) => tfJsDivergence(tf, p, q), refs.js],
    ]) {
      const fn = make(P, Q);
      const before = tf.memory().numTensors;
      const t = await timeIt(fn);
      expect(
        tf.memory().numTensors === before,
        `${name} ${backend} n=1e6: tensors ${before} -> ${tf.memory().numTensors}`,
      );
      report(name, backend, t.ms, fn(), ref);
      fn.dispose();
    }
    // What keeping the data on the backend saves: creating p and q as tensors inside the call.
    const perCall = () =>
      tf.tidy(() => {
        const pt = tf.tensor1d(P);
        const qt = tf.tensor1d(Q);
        const terms = tf.mul(pt, tf.log(tf.div(pt, qt)));
        return tf.sum(tf.where(tf.greater(pt, 0), terms, tf.zerosLike(terms))).dataSync()[0];
      });
    report("tfKl, tensors created per call", backend, (await timeIt(perCall)).ms, perCall(), refs.kl);
    const create = () => {
      const pt = tf.tensor1d(P);
      const qt = tf.tensor1d(Q);
      // Touch them so a lazy backend really holds the data.
      const s = pt.size + qt.size;
      tf.dispose([pt, qt]);
      return s;
    };
    report("  of which tf.tensor1d(p), (q) alone", backend, (await timeIt(create)).ms, refs.kl, refs.kl);
  }

  // The switch the harness makes before a sample: useBackend, then the contender's calls.
  await useBackend(tf, "cpu");
  const onCpu = tfKl(tf, P, Q);
  await useBackend(tf, "wasm");
  const onWasm = tfKl(tf, P, Q);
  onWasm();
  const t0 = performance.now();
  await useBackend(tf, "cpu");
  const switchMs = performance.now() - t0;
  const next = [0, 1, 2].map(() => {
    const t = performance.now();
    onCpu();
    return ms(performance.now() - t);
  });
  console.log(
    `  useBackend('cpu') after a wasm call: ${ms(switchMs)} ms; the next three cpu calls ${next.join(", ")} ms`,
  );
  onCpu.dispose();
  onWasm.dispose();

  console.log("\nrough timings, softmax cross-entropy + gradient, float32 (median ms per call)");
  for (const backend of BACKENDS) {
    await useBackend(tf, backend);
    for (const { rows, c, z, y } of xentInputs) {
      const fn = tfXentWithGrad(tf, z, y, rows, c);
      const t = await timeIt(fn, { warmup: 20, reps: 9, inner: 20 });
      console.log(`  ${`${rows}x${c}`.padEnd(8)} ${backend.padEnd(5)} ${ms(t.ms).padStart(8)} ms`);
      fn.dispose();
    }
  }

  console.log("\nrough timings, one epoch of 10,000 x 784, batch 128, Adam (median of 3 after 1 warm-up)");
  const data = teacherData({ samples: 10_000, inputs: 784, classes: 10, seed: 0x7a1d });
  const order = epochOrder(10_000, SHUFFLE_SEED);
  for (const hidden of [[128], []]) {
    const arch = [784, ...hidden, 10].join("-");
    const js = new JsMlp({ inputs: 784, hidden, classes: 10, seed: MODEL_SEED });
    const weights = js.parameters().map((w) => Float32Array.from(w));
    const jsEpoch = jsTrainer(js, new JsAdam({ learningRate: LEARNING_RATE }), data, {
      batchSize: 128,
      seed: SHUFFLE_SEED,
    });
    console.log(
      `  ${arch.padEnd(10)} JS reference  ${ms((await timeIt(jsEpoch, { warmup: 1, reps: 1 })).ms).padStart(8)} ms (one epoch)`,
    );
    for (const backend of BACKENDS) {
      await useBackend(tf, backend);
      const epoch = tfTrainEpoch(tf, {
        inputs: 784,
        hidden,
        classes: 10,
        weights,
        ...data,
        batchSize: 128,
        learningRate: LEARNING_RATE,
        order,
      });
      await epoch();
      const before = tf.memory().numTensors;
      const t = await timeIt(epoch, { warmup: 0, reps: 3 });
      const after = tf.memory().numTensors;
      expect(after === before, `training epoch ${arch} ${backend}: tensors ${before} -> ${after}`);
      console.log(
        `  ${arch.padEnd(10)} TF.js ${backend.padEnd(7)} ${ms(t.ms).padStart(8)} ms; tensors ${before} after the ` +
          `warm-up epoch, ${after} after 3 more`,
      );
      epoch.dispose();
    }
  }
}

const left = tf.memory();
console.log(
  `\ntensors still allocated after every contender's dispose(): ${left.numTensors} (${left.numBytes} bytes)`,
);
expect(left.numTensors === 0, `${left.numTensors} tensors left after disposing every contender`);
if (failures.length) {
  console.log(`\n${failures.length} check(s) failed:\n  ${failures.join("\n  ")}`);
  process.exitCode = 1;
} else {
  console.log("all checks passed");
}
