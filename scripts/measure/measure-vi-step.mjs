// Where a fitVI step's time goes on a small model: the eight-schools target (10 parameters, 8 draws
// per step, mean-field, Adam), through the module's own exports in wasm memory, so each part is timed
// alone: the step's normal draws (vi_draw: 80 normals and the transform), the built-in target
// (vit_eval of hierarchicalNormal on 8 draws), a whole step of the built-in loop (vi_run, per step),
// and fitVI itself with the same target written in JavaScript (per step, its fixed cost included).
// Medians over alternating rounds, in ns per draw. The step's remaining kernels (the checks, the
// gradient, the optimiser) are the whole step minus its draws and its target.
// Usage: npm run build && node scripts/measure/measure-vi-step.mjs
import { readFileSync } from "node:fs";
import { adam, fitVI } from "../../dist/index.js";
import { eightSchoolsTarget } from "../../bench/suites/vi.mjs";

const Y = [28, 8, -3, 7, -1, 1, 18, 12];
const SIGMA = [15, 10, 16, 11, 9, 11, 10, 18];
const D = 10;
const S = 8;
const bytes = readFileSync(new URL("../../dist/klcore.simd.wasm", import.meta.url));
const { instance } = await WebAssembly.instantiate(bytes, { env: { abort: () => {} } });
const k = instance.exports;
const f64 = () => new Float64Array(k.memory.buffer);

// Parameters (mean-field: mu, log sd), draws and the target's data, as src/vi.ts lays them out.
const theta = k.alloc(8 * 2 * D);
const eps = k.alloc(8 * S * D);
const z = k.alloc(8 * S * D);
const gz = k.alloc(8 * S * D);
const lp = k.alloc(8 * S);
const work = k.alloc(8 * (4 * D + 2));
const data = k.alloc(8 * 18);
f64().set([...Y, ...SIGMA, 5, 5], data >> 3);
f64().fill(0, theta >> 3, (theta >> 3) + 2 * D);

const draw = () => k.vi_draw(0, D, theta, 1, 0, 0, S, eps, z);
const target = () => k.vit_eval(3, data, 8, D, z, gz, lp, S, work + 2 * D * 8);
const js = eightSchoolsTarget({ y: Y, sigma: SIGMA, muScale: 5, tauScale: 5 });
const STEPS = 500;
const opts = () => ({
  steps: STEPS,
  samples: S,
  seed: 1,
  optimizer: adam({ learningRate: 0.01 }),
  evaluationDraws: 5,
});
const { targets } = await import("../../dist/index.js");
const builtin = targets.hierarchicalNormal({ y: Y, sigma: SIGMA });

const parts = {
  "normal draws and transform (vi_draw)": [
    () => {
      for (let i = 0; i < STEPS; i++) draw();
    },
    STEPS * S,
  ],
  "the built-in target (vit_eval)": [
    () => {
      for (let i = 0; i < STEPS; i++) target();
    },
    STEPS * S,
  ],
  "fitVI, built-in target (a whole step)": [() => fitVI(builtin, opts()), STEPS * S],
  "fitVI, the target in JavaScript": [() => fitVI(js, opts()), STEPS * S],
  "the JavaScript target alone": [
    () => {
      const zz = new Float64Array(D);
      const g = new Float64Array(D);
      let s = 0;
      for (let i = 0; i < STEPS * S; i++) {
        zz[0] = i * 1e-4;
        s += js.logDensity(zz, g);
      }
      return s;
    },
    STEPS * S,
  ],
};
const times = Object.fromEntries(Object.keys(parts).map((n) => [n, []]));
for (let round = 0; round < 15; round++) {
  for (const [name, [fn, per]] of Object.entries(parts)) {
    const t0 = performance.now();
    await fn();
    times[name].push(((performance.now() - t0) * 1e6) / per);
  }
}
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
console.log(
  `eight schools, ${D} parameters, ${S} draws per step, ${STEPS} steps; ns per draw (median of 15 rounds)`,
);
for (const name of Object.keys(parts)) console.log(`  ${name.padEnd(40)} ${median(times[name]).toFixed(1)}`);
