// How fast is a fitVI step? klcore's fitVI against the VI step's other contenders (the plain
// JavaScript loop of bench/reference/vi.mjs and, when `python3 -c "import torch"` works, PyTorch CPU
// float64 on one thread), round-robin with the benchmark's harness on the VI workload
// (VI_WORKLOAD: logistic regression, 1,000 rows x 20 features, 8 draws per step, Adam 0.01),
// mean-field and full-rank. fitVI is timed by whole runs of `calls` steps (its setup and its 5
// final evaluation draws included, divided over the steps): on the built-in logistic regression
// target (the whole loop in wasm) and on the JS loop's own target given as logDensityBatch (the
// same JavaScript log density, the rest in wasm). Prints µs per step (median over samples) and
// each contender's speed-up over the JS loop (median of same-round ratios; < 1 = slower).
// Usage: npm run build && node scripts/measure/measure-vi.mjs [--samples N]
import { parseArgs } from "node:util";
import { adam, fitVI, targets } from "../../dist/index.js";
import { runWorkload } from "../../bench/harness.mjs";
import { JS_VI, jsViContender, torchViContender, viData } from "../../bench/contenders/vi.mjs";
import { startTorch, torchAvailable } from "../../bench/contenders/torch.mjs";
import { VI_WORKLOAD } from "../../bench/reference/vi.mjs";

// fitVI's JS target from a second instance of the module: its own copy of the log density's code,
// so V8's feedback for it is not shared with the JS loop's (which passes heap arrays where fitVI
// passes views of wasm memory), as in a program that runs only one of them.
const { logisticRegressionTarget } = await import("../../bench/reference/vi.mjs?fitvi");

const { values } = parseArgs({ options: { samples: { type: "string", default: "11" } } });
const samples = Number(values.samples);
if (!Number.isInteger(samples) || samples < 1)
  throw new Error(`--samples: a positive integer, not ${values.samples}`);

/** A self-timed contender: `calls` steps of fitVI in one run, by the wall clock. */
function fitViContender(name, target, family) {
  const options = (steps) => ({
    family,
    steps,
    samples: VI_WORKLOAD.draws,
    seed: VI_WORKLOAD.drawSeed,
    optimizer: adam({ learningRate: VI_WORKLOAD.learningRate }),
    evaluationDraws: 5,
  });
  let last = 0;
  return {
    name,
    fn: async () => {
      const q = await fitVI(target, options(1));
      return q.history[0];
    },
    timed: async (calls) => {
      const t0 = process.hrtime.bigint();
      const q = await fitVI(target, options(calls));
      const ns = Number(process.hrtime.bigint() - t0);
      last = q.history[q.history.length - 1];
      if (!Number.isFinite(last)) throw new Error(`${name}: a non-finite ELBO estimate`);
      return ns;
    },
  };
}

const available = torchAvailable();
const torch = available.ok ? await startTorch({ threads: 1 }) : null;
console.log(available.ok ? `PyTorch ${torch.info.torch}, 1 thread` : `PyTorch skipped: ${available.reason}`);
const data = viData();
const builtin = targets.logisticRegression({
  x: data.x,
  y: data.y,
  priorScale: VI_WORKLOAD.priorScale,
  dim: data.features,
});
const js = logisticRegressionTarget({ x: data.x, y: data.y, priorScale: VI_WORKLOAD.priorScale });
const batch = {
  dim: js.dim,
  logDensityBatch: (z, grad, out) => js.logDensityBatch(z, grad, out, out.length),
};
console.log(
  `workload: logistic regression ${VI_WORKLOAD.rows} x ${VI_WORKLOAD.features}, ${VI_WORKLOAD.draws} draws per step, Adam ${VI_WORKLOAD.learningRate}; Node ${process.version}`,
);
console.log("");
console.log("| family | contender | µs per step (median) | min | max | vs JS loop |");
console.log("|---|---|--:|--:|--:|--:|");
try {
  for (const family of VI_WORKLOAD.families) {
    const contenders = [
      jsViContender(data, family),
      fitViContender("klcore fitVI, built-in target", builtin, family),
      fitViContender("klcore fitVI, the JS target", batch, family),
    ];
    if (torch) contenders.push(await torchViContender(torch, data, family));
    const result = await runWorkload({
      name: `vi ${family}`,
      contenders,
      baseline: JS_VI,
      samples,
      targetMs: 20,
      warmupMs: 300,
    });
    for (const r of result.contenders) {
      const us = (ns) => (ns / 1e3).toFixed(1);
      console.log(
        `| ${family} | ${r.name} | ${us(r.nsPerCall.median)} | ${us(r.nsPerCall.min)} | ${us(r.nsPerCall.max)} | ${r.speedup.median.toFixed(2)} |`,
      );
    }
    for (const c of contenders) if (c.dispose) await c.dispose();
  }
} finally {
  if (torch) await torch.close();
}
