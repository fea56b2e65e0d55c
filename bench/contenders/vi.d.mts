// Types of bench/contenders/vi.mjs.

import type { Family, JsVi, LogisticData, VI_WORKLOAD } from "../reference/vi.mjs";
import type { TorchChild, TorchContender } from "./torch.mjs";

export const JS_VI: string;
export function torchName(threads: number): string;
export function viData(workload?: typeof VI_WORKLOAD): LogisticData;
export function jsViContender(
  data: LogisticData,
  family: Family,
  workload?: typeof VI_WORKLOAD,
): { name: string; kind: "js"; fn: () => number; vi: JsVi };
export function torchViContender(
  torch: TorchChild,
  data: LogisticData,
  family: Family,
  workload?: typeof VI_WORKLOAD,
): Promise<TorchContender>;
