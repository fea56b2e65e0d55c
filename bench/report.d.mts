// Types of bench/report.mjs, for the tests that read its text.

export function torchText(peers: {
  klcoreThreads?: number;
  torch?:
    | { skipped: string }
    | { version: string; threads: number; threadsAsked: number; interopThreads: number; blas?: string[] };
}): string | null;
export function markdown(run: unknown): string;
