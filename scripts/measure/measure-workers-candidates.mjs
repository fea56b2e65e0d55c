// What else could run across cores as fit does (docs/workers.md, "What else benefits")? A
// divergence over a large array only pays for threads if splitting it costs less than the work
// saved: the caller's arrays are outside every worker's memory, so each call must first copy them
// (at least once, into shared memory) before any worker can read them. This times, on one thread,
// kl(p, q) of float32 distributions of n = 1e6 and 1e7 elements (the default call: validated, copied
// into wasm memory) beside one copy of p and q into a SharedArrayBuffer, the least a split would add.
// Median of 9 rounds, in milliseconds.
// Usage: node scripts/measure/measure-workers-candidates.mjs

import { kl } from "../../dist/index.js";

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
function time(fn) {
  fn();
  const rounds = [];
  for (let r = 0; r < 9; r++) {
    const t0 = performance.now();
    fn();
    rounds.push(performance.now() - t0);
  }
  return median(rounds);
}

for (const n of [1e6, 1e7]) {
  const p = new Float32Array(n);
  const q = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    p[i] = 1 + (i % 7);
    q[i] = 1 + (i % 5);
  }
  const sp = p.reduce((a, b) => a + b, 0);
  const sq = q.reduce((a, b) => a + b, 0);
  for (let i = 0; i < n; i++) {
    p[i] /= sp;
    q[i] /= sq;
  }
  const sharedP = new Float32Array(new SharedArrayBuffer(n * 4));
  const sharedQ = new Float32Array(new SharedArrayBuffer(n * 4));
  const klMs = time(() => kl(p, q));
  const copyMs = time(() => {
    sharedP.set(p);
    sharedQ.set(q);
  });
  console.log(
    `n = ${n.toExponential(0)}: kl ${klMs.toFixed(2)} ms; copying p and q into shared memory ${copyMs.toFixed(2)} ms ` +
      `(${((100 * copyMs) / klMs).toFixed(0)}% of the call)`,
  );
}
