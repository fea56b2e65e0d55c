// The small demo `npm start` runs: KL divergence of two distributions, and which backend ran.
import {
  backend,
  crossEntropy,
  crossEntropyWithLogits,
  entropy,
  init,
  jsDistance,
  kl,
} from "../dist/index.js";

await init();
const p = new Float64Array([0.1, 0.4, 0.5]);
const q = new Float64Array([0.3, 0.3, 0.4]);

const { simd, build, memoryBytes } = backend();
console.log(
  `klcore backend: ${build} build (SIMD ${simd ? "on" : "off"}), ${memoryBytes / 1024} KiB wasm memory`,
);
console.log(`p = [${p.join(", ")}]`);
console.log(`q = [${q.join(", ")}]`);
console.log(`KL(p || q)      = ${kl(p, q)} nats = ${kl(p, q, { base: 2 })} bits`);
console.log(`H(p, q) - H(p)  = ${crossEntropy(p, q) - entropy(p)} nats (the same, to rounding)`);
console.log(`JS distance     = ${jsDistance(p, q)}`);
console.log(`KL([.5,.5] || [1,0]) = ${kl([0.5, 0.5], [1, 0])} (exact; Keras' clipping gives 7.37)`);

// A fused loss on logits with its gradient: what a training step follows.
const logits = new Float32Array([1, 2, 3, 0.5, 0.1, -1]);
const { loss, grad } = crossEntropyWithLogits([2, 0], logits, { classes: 3, grad: true });
console.log(`cross-entropy of labels [2, 0] on 2x3 logits = ${loss.toFixed(6)}`);
console.log(`its gradient w.r.t. the logits = [${Array.from(grad, (g) => g.toFixed(4)).join(", ")}]`);
