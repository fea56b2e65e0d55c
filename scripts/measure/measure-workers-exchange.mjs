// What fit({ workers }) pays per batch to exchange data between its threads (docs/workers.md), on
// the benchmark's MLP 784-128-10 (101,770 parameters): the pieces a design with one shared wasm
// memory would save, beside those it would not.
//   params   the parameters out of the coordinator's wasm memory into the shared buffer and into a
//            worker's wasm memory (two copies per step and worker)
//   node     one gradient from a worker's wasm memory into its shared slot and into the
//            coordinator's (two copies per handed-over node)
//   add      one add_f32 of two gradients (both designs add the shards' gradients)
//   wake     a step's signalling: Atomics.notify to a worker, its reply, Atomics.waitAsync resolving
// Each is timed over many repetitions, median of 15 rounds, in microseconds.
// Usage: node scripts/measure/measure-workers-exchange.mjs

import { Worker } from "node:worker_threads";
import { createInstanceSync } from "../../dist/index.js";

const k = createInstanceSync({ simd: true });
const model = k.mlp({ inputs: 784, hidden: [128], classes: 10 });
const count = model.parameterCount;
const params = model.parameters();
const a = k.alloc("float32", count);
const b = k.alloc("float32", count);
const shared = new Float32Array(new SharedArrayBuffer(count * 4));
const core = k.core;

const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
function time(fn, reps = 200) {
  const rounds = [];
  for (let r = 0; r < 15; r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    rounds.push(((performance.now() - t0) / reps) * 1000);
  }
  return median(rounds);
}

const paramsUs = time(() => {
  let at = 0;
  for (const p of params) {
    shared.set(p.array, at);
    at += p.length;
  }
  at = 0;
  for (const p of params) {
    p.array.set(shared.subarray(at, at + p.length));
    at += p.length;
  }
});
const nodeUs = time(() => {
  shared.set(a.array);
  b.array.set(shared);
});
const addUs = time(() => core.k.add_f32(a.ptr, b.ptr, count));

// The wake: a worker waiting on the control word, answering each generation.
const control = new Int32Array(new SharedArrayBuffer(8));
const worker = new Worker(
  `const { workerData } = require("node:worker_threads");
   const c = new Int32Array(workerData);
   let g = 0;
   for (;;) {
     while (Atomics.load(c, 0) === g) Atomics.wait(c, 0, g);
     g = Atomics.load(c, 0);
     if (g < 0) break;
     Atomics.add(c, 1, 1);
     Atomics.notify(c, 1);
   }`,
  { eval: true, workerData: control.buffer },
);
async function ping() {
  const want = Atomics.load(control, 1) + 1;
  Atomics.add(control, 0, 1);
  Atomics.notify(control, 0);
  for (;;) {
    const v = Atomics.load(control, 1);
    if (v >= want) return;
    const w = Atomics.waitAsync(control, 1, v);
    if (w.async) await w.value;
  }
}
for (let i = 0; i < 200; i++) await ping();
const wakes = [];
for (let r = 0; r < 15; r++) {
  const t0 = performance.now();
  for (let i = 0; i < 200; i++) await ping();
  wakes.push(((performance.now() - t0) / 200) * 1000);
}
Atomics.store(control, 0, -1);
Atomics.notify(control, 0);
await worker.terminate();

console.log(`parameters: ${count} float32 (${((count * 4) / 1024).toFixed(0)} KiB)`);
console.log(`params (out and in, one worker): ${paramsUs.toFixed(1)} us`);
console.log(`node (out and in, one node):     ${nodeUs.toFixed(1)} us`);
console.log(`add_f32 (one node):              ${addUs.toFixed(1)} us`);
console.log(`wake (round trip):               ${median(wakes).toFixed(1)} us`);
