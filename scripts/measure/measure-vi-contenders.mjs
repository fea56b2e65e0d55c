// How fast are the VI step's contenders that exist without fitVI? The plain JavaScript loop
// (bench/reference/vi.mjs) and PyTorch CPU float64 (bench/contenders/torch_vi.py, in a child
// process per thread count, each timing its own steps), round-robin with the benchmark's harness
// on the VI workload (logistic regression, 1,000 rows x 20 features, 8 draws per step, Adam),
// mean-field and full-rank. Prints µs per step (median over samples) and each contender's speed-up
// over the JS loop (median of same-round ratios; < 1 = slower). PyTorch is skipped, with the
// reason, when `python3 -c "import torch"` fails.
// Usage: node scripts/measure/measure-vi-contenders.mjs [--samples N] [--threads 1,2]
import { parseArgs } from "node:util";
import { runWorkload } from "../../bench/harness.mjs";
import { JS_VI, jsViContender, torchViContender, viData } from "../../bench/contenders/vi.mjs";
import { startTorch, torchAvailable } from "../../bench/contenders/torch.mjs";
import { VI_WORKLOAD } from "../../bench/reference/vi.mjs";

const { values } = parseArgs({
  options: { samples: { type: "string", default: "11" }, threads: { type: "string", default: "1,2" } },
});
const samples = Number(values.samples);
if (!Number.isInteger(samples) || samples < 1)
  throw new Error(`--samples: a positive integer, not ${values.samples}`);
const threadCounts = values.threads.split(",").map(Number);

const available = torchAvailable();
const children = [];
if (available.ok) {
  for (const threads of threadCounts) children.push(await startTorch({ threads }));
  for (const c of children)
    console.log(
      `PyTorch ${c.info.torch}: torch.get_num_threads() = ${c.info.threads}, interop ${c.info.interopThreads}`,
    );
} else {
  console.log(`PyTorch skipped: ${available.reason}`);
}
const data = viData();
console.log(
  `workload: logistic regression ${VI_WORKLOAD.rows} x ${VI_WORKLOAD.features}, ${VI_WORKLOAD.draws} draws per step, Adam ${VI_WORKLOAD.learningRate}`,
);
console.log("");
console.log("| family | contender | µs per step (median) | min | max | vs JS loop |");
console.log("|---|---|--:|--:|--:|--:|");
try {
  for (const family of VI_WORKLOAD.families) {
    const contenders = [jsViContender(data, family)];
    for (const c of children) contenders.push(await torchViContender(c, data, family));
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
  for (const c of children) await c.close();
}
