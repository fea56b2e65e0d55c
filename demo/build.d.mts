// Types of demo/build.mjs.
export const DEFAULT_OUT: string;
export const HEADERS: Record<string, string>;
export function buildDemo(outdir?: string): Promise<string>;
