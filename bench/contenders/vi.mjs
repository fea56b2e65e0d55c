// The VI step's contenders that exist without klcore's fitVI: the plain JavaScript loop
// (bench/reference/vi.mjs) and PyTorch (bench/contenders/torch_vi.py in the child of torch.mjs), on
// the benchmark's workload (VI_WORKLOAD: logistic regression, 1,000 rows x 20 features, 8 draws per
// step, Adam). A VI suite adds klcore's fitVI step beside them; each contender's fn() is one step
// and returns that step's ELBO estimate.

import { VI_WORKLOAD, jsVi, logisticData, logisticRegressionTarget } from "../reference/vi.mjs";
import { torchContender, torchLabel } from "./torch.mjs";

export const JS_VI = "JS loop";
export const torchName = (threads) => torchLabel(threads, "PyTorch CPU float64");

/** The workload's data (x rows x features, y), the same for every contender. */
export function viData(workload = VI_WORKLOAD) {
  return logisticData({ rows: workload.rows, features: workload.features, seed: workload.dataSeed });
}

/** The JavaScript loop's contender for one family. */
export function jsViContender(data, family, workload = VI_WORKLOAD) {
  const target = logisticRegressionTarget({ x: data.x, y: data.y, priorScale: workload.priorScale });
  const vi = jsVi(target, {
    family,
    draws: workload.draws,
    learningRate: workload.learningRate,
    seed: workload.drawSeed,
  });
  return { name: JS_VI, kind: "js", fn: vi.step, vi };
}

/** PyTorch's contender for one family, set up in a running child (startTorch()). */
export async function torchViContender(torch, data, family, workload = VI_WORKLOAD) {
  const id = await torch.setup(
    "vi",
    {
      target: "logisticRegression",
      family,
      draws: workload.draws,
      learningRate: workload.learningRate,
      seed: workload.drawSeed,
      priorScale: workload.priorScale,
    },
    { x: [data.x, [data.rows, data.features]], y: data.y },
  );
  return torchContender(torch, id, torchName(torch.info.threads));
}
