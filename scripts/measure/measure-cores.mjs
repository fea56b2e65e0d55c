// How much two threads can gain on this machine, whatever fit({ workers }) does (docs/workers.md):
// the same single-threaded work (the dense layer of the benchmark's MLP, 128 x 784 x 128, forward
// and backward, through the wasm kernels) run by one worker thread alone, then by two worker threads
// at once, alternating, each thread timing its own rounds. If two threads each run s times slower
// together than one alone, two workers can reach at most 2 / s of one, before any exchange or
// serial work. Prints the medians of the rounds' times and of s.
// Usage: node scripts/measure/measure-cores.mjs [rounds]

import { Worker } from "node:worker_threads";
import os from "node:os";

const rounds = Number(process.argv[2] ?? 15);
const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];

// A thread: waits for "go", runs `reps` forward+backward passes of the layer, replies with the ms.
const body = `
  const { parentPort } = require("node:worker_threads");
  const { readFileSync } = require("node:fs");
  const bytes = readFileSync(${JSON.stringify(new URL("../../build/klcore.simd.wasm", import.meta.url).pathname)});
  const k = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { abort() {} } }).exports;
  k.memory.grow(200);
  const R = 128, I = 784, O = 128, base = 1 << 22;
  const x = base, w = x + R * I * 4, b = w + I * O * 4, y = b + O * 4, dy = y + R * O * 4;
  const dw = dy + R * O * 4, db = dw + I * O * 4;
  const f = new Float32Array(k.memory.buffer);
  for (let i = base / 4; i < (db + O * 4) / 4; i++) f[i] = Math.sin(i) * 0.1;
  parentPort.on("message", (reps) => {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) {
      k.dense_forward_f32(x, w, b, y, R, I, O);
      k.dense_backward_f32(x, w, dy, 0, dw, db, R, I, O);
    }
    parentPort.postMessage(performance.now() - t0);
  });
`;

const threads = [0, 1].map(() => new Worker(body, { eval: true }));
const run = (ws, reps) =>
  Promise.all(ws.map((w) => new Promise((resolve) => (w.once("message", resolve), w.postMessage(reps)))));

const reps = 60;
await run(threads, reps); // warm-up
const alone = [];
const together = [];
const slowdown = [];
for (let r = 0; r < rounds; r++) {
  const [a] = await run([threads[0]], reps);
  const both = await run(threads, reps);
  alone.push(a);
  together.push(...both);
  slowdown.push(median(both) / a);
}
for (const t of threads) await t.terminate();
const s = median(slowdown);
console.log(
  `${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? "?"}), Node ${process.versions.node}, ${rounds} rounds of ${reps} passes`,
);
console.log(`one thread alone:      ${median(alone).toFixed(1)} ms per round (median)`);
console.log(`two threads at once:   ${median(together).toFixed(1)} ms per round each (median)`);
console.log(`slowdown s:            ${s.toFixed(2)} (median of the rounds' ratios)`);
console.log(`two threads' ceiling:  ${(2 / s).toFixed(2)}x one thread`);
