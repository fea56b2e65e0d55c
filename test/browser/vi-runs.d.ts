export interface VIRun {
  name: string;
  target: "conjugate" | "gaussian" | "schools" | "logistic";
  options: Record<string, unknown>;
}
export type Wire = number | "NaN" | "Infinity" | "-Infinity" | "-0";
export interface VIRunResult {
  mean: Wire[];
  sd: Wire[];
  covariance: Wire[];
  elbo: Wire;
  elboStdErr: Wire;
  logEvidence: Wire;
  paretoK: Wire;
  history: Wire[];
  steps: number;
  stopReason: string;
  convergedAt: number | null;
  sample: Wire[];
}
export const viRuns: VIRun[];
export function runVI(api: unknown, adam: unknown, run: VIRun): Promise<VIRunResult>;
