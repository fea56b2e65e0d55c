// The relaxed-SIMD comparison of scripts/measure/measure-relaxed.mjs, without anything Node-only, so that a
// page runs it too (bench:browser, in Chromium, which ships relaxed SIMD without a flag): the dense
// layer of an MLP 784-128-10's first layer (batch 128), forward and backward, in two builds of
// assembly/ that differ only in the dense kernels' multiply-add (`f32x4.add(acc, f32x4.mul(a, b))`,
// what klcore ships, against `f32x4.relaxed_madd(a, b, acc)`, FMA where the CPU has it), timed round
// robin on the same seeded inputs; with how far the outputs drift apart.

export const DENSE = { rows: 128, inputs: 784, outputs: 128 };

const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];

/**
 * Times both builds (their bytes). Returns the shape, the rounds and calls, per direction the
 * medians in ms per call and the speed-up (add(mul) / relaxed_madd), and the outputs' drift
 * (largest difference over the largest value) of y and dW.
 */
export async function compareDense(shippedBytes, relaxedBytes, { rounds = 15, calls = 20 } = {}) {
  const { rows, inputs, outputs } = DENSE;
  const load = async (bytes) =>
    (await WebAssembly.instantiate(bytes, { env: { abort: () => {} } })).instance.exports;
  // The same seeded inputs in both modules.
  let seed = 12345;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const data = {
    x: Float32Array.from({ length: rows * inputs }, random),
    w: Float32Array.from({ length: inputs * outputs }, random),
    b: Float32Array.from({ length: outputs }, random),
    dy: Float32Array.from({ length: rows * outputs }, random),
  };
  const sizes = {
    x: rows * inputs,
    w: inputs * outputs,
    b: outputs,
    dy: rows * outputs,
    y: rows * outputs,
    dx: rows * inputs,
    dw: inputs * outputs,
    db: outputs,
  };
  const setUp = async (bytes) => {
    const k = await load(bytes);
    const at = {};
    for (const [name, n] of Object.entries(sizes)) at[name] = k.alloc(n * 4);
    const f32 = new Float32Array(k.memory.buffer);
    for (const name of ["x", "w", "b", "dy"]) f32.set(data[name], at[name] >> 2);
    const forward = () => k.dense_forward_f32(at.x, at.w, at.b, at.y, rows, inputs, outputs);
    const backward = () =>
      k.dense_backward_f32(at.x, at.w, at.dy, at.dx, at.dw, at.db, rows, inputs, outputs);
    const read = (name) => new Float32Array(k.memory.buffer, at[name], sizes[name]).slice();
    return { forward, backward, read };
  };
  const m = { shipped: await setUp(shippedBytes), relaxed: await setUp(relaxedBytes) };
  const times = { forward: { shipped: [], relaxed: [] }, backward: { shipped: [], relaxed: [] } };
  for (let round = 0; round < rounds; round++) {
    for (const op of ["forward", "backward"]) {
      for (const v of round % 2 ? ["relaxed", "shipped"] : ["shipped", "relaxed"]) {
        const t0 = performance.now();
        for (let i = 0; i < calls; i++) m[v][op]();
        times[op][v].push((performance.now() - t0) / calls);
      }
    }
  }
  const drift = (name) => {
    const a = m.shipped.read(name);
    const b = m.relaxed.read(name);
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < a.length; i++) {
      worst = Math.max(worst, Math.abs(a[i] - b[i]));
      scale = Math.max(scale, Math.abs(a[i]));
    }
    return worst / scale;
  };
  const direction = (op) => {
    const shippedMs = median(times[op].shipped);
    const relaxedMs = median(times[op].relaxed);
    return { shippedMs, relaxedMs, speedup: shippedMs / relaxedMs };
  };
  return {
    ...DENSE,
    rounds,
    calls,
    forward: direction("forward"),
    backward: direction("backward"),
    drift: { y: drift("y"), dw: drift("dw") },
  };
}

/** The comparison as the lines scripts/measure/measure-relaxed.mjs prints. */
export function relaxedLines(r) {
  const lines = [
    `dense layer ${r.rows}x${r.inputs} -> ${r.outputs}, medians of ${r.rounds} rounds of ${r.calls} calls:`,
  ];
  for (const op of ["forward", "backward"]) {
    const d = r[op];
    lines.push(
      `  ${op.padEnd(8)} add(mul) ${d.shippedMs.toFixed(3)} ms, relaxed_madd ${d.relaxedMs.toFixed(3)} ms: ${d.speedup.toFixed(2)}x`,
    );
  }
  lines.push(
    `  outputs differ by up to ${r.drift.y.toExponential(1)} (y), ` +
      `${r.drift.dw.toExponential(1)} (dW) of their largest value`,
  );
  return lines;
}
