// The margins of the divergence kernels' fast blocks on the benchmark's rows (assembly/divergence.ts,
// KL_FAST and JS_FAST; docs/divergence-accuracy.md): for the kl and jsDivergence workloads of
// bench/suites/divergences.mjs (every size and dtype, the suite's seed and order), the smallest block value
// of sum kl_div / (sum p + sum q) and of the Jensen-Shannon term sum / (sum p + sum q) over the
// blocks of 128 elements. A block below the kernel's bound would leave the fast form.
//
// Usage: node scripts/measure/measure-block-margins.mjs

import { distribution, mulberry32 } from "../../bench/reference/kernels.mjs";
import { DTYPES, SEED, SIZES, ZERO_FRACTION } from "../../bench/suites/divergences.mjs";

const BLOCK = 128;

// The suite's rows, drawn in its order (every dtype, every size), float32 ones rounded.
const rand = mulberry32(SEED);
for (const dtype of DTYPES) {
  for (const n of SIZES) {
    const Arr = dtype === "float32" ? Float32Array : Float64Array;
    const p = Arr.from(distribution(rand, n, ZERO_FRACTION));
    const q = Arr.from(distribution(rand, n, 0));
    let klMin = Infinity;
    let jsMin = Infinity;
    for (let b = 0; b < n; b += BLOCK) {
      let g = 0;
      let t = 0;
      let mass = 0;
      for (let i = b; i < Math.min(b + BLOCK, n); i++) {
        const x = p[i];
        const y = q[i];
        const m = (x + y) / 2;
        g += (x > 0 ? x * Math.log(x / y) : 0) - x + y;
        t += (x > 0 ? x * Math.log(x / m) : 0) + (y > 0 ? y * Math.log(y / m) : 0);
        mass += x + y;
      }
      klMin = Math.min(klMin, g / mass);
      jsMin = Math.min(jsMin, t / mass);
    }
    console.log(
      `${dtype} n=${n}: smallest block kl_div sum / mass ${klMin.toFixed(4)} (KL_FAST 0.125), ` +
        `Jensen-Shannon term sum / mass ${jsMin.toFixed(4)} (JS_FAST 0.0625)`,
    );
  }
}
