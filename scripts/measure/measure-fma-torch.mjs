// The opt-in FMA build's training epochs against PyTorch CPU (docs/fma.md): the training suite of
// npm run bench (bench/suites/train.mjs, its workload and its PyTorch contender) with one more
// contender, fit() on an instance of the FMA build, the same weights and batches, round-robin.
// Node 20 runs relaxed SIMD behind --experimental-wasm-relaxed-simd: the script restarts itself
// with the flag. Needs PyTorch (/usr/bin/python3 -c "import torch").
// Usage: npm run build && node scripts/measure/measure-fma-torch.mjs [epochs per contender]

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { adam, createInstanceSync, fit, hasFma } from "../../dist/index.js";
import { startTorch, suiteContenders, torchAvailable } from "../../bench/contenders/torch.mjs";
import { FIT, MODEL_SEED, SHUFFLE_SEED, klcoreModel, train } from "../../bench/suites/train.mjs";

const FLAG = "--experimental-wasm-relaxed-simd";
if (!hasFma()) {
  if (process.execArgv.includes(FLAG))
    throw new Error(`this engine cannot run relaxed SIMD, even with ${FLAG}`);
  const r = spawnSync(process.execPath, [FLAG, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: "inherit",
  });
  process.exit(r.status ?? 1);
}
if (!torchAvailable()) throw new Error("PyTorch does not import (apt-get install python3-torch)");

const FMA_FIT = "klcore FMA fit()";
const fma = createInstanceSync({ fma: true });
const child = await startTorch({ threads: 1 });
try {
  const result = await train({
    samples: Number(process.argv[2] ?? 7),
    torch: suiteContenders(child),
    log: console.log,
    extraContenders: ({ spec, data, workload }) => {
      const model = klcoreModel(fma, { ...workload, hidden: spec.hidden, seed: MODEL_SEED });
      const optimizer = adam({ learningRate: workload.learningRate });
      const options = {
        epochs: 1,
        batchSize: workload.batchSize,
        optimizer,
        loss: "cross-entropy",
        seed: SHUFFLE_SEED,
      };
      return [
        {
          name: FMA_FIT,
          kind: "klcore",
          fn: async () => (await fit(model, data, options)).history[0].loss,
          parameters: () => model.parameters().map((p) => p.array),
          lossSum: false,
          dispose: () => {
            model.dispose();
            optimizer.dispose();
          },
        },
      ];
    },
  });
  const { torch: version, threads, blas } = child.info;
  console.log(`\nPyTorch ${version} on ${threads} thread(s), BLAS ${(blas ?? []).join(", ")}`);
  for (const w of result.workloads) {
    const ms = (name) => w.contenders.find((c) => c.contender === name)?.nsPerCall.median / 1e6;
    const torch = w.contenders.find((c) => c.kind === "torch");
    const t = torch.nsPerCall.median / 1e6;
    console.log(
      `${w.model}: PyTorch ${t.toFixed(1)} ms; klcore SIMD fit() ${ms(FIT).toFixed(1)} ms (${(t / ms(FIT)).toFixed(2)}x); ` +
        `FMA fit() ${ms(FMA_FIT).toFixed(1)} ms (${(t / ms(FMA_FIT)).toFixed(2)}x)`,
    );
  }
} finally {
  await child.close?.();
}
