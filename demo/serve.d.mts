// Types of demo/serve.mjs.
export function serveDemo(options?: {
  dir?: string;
  port?: number;
}): Promise<{ url: string; close(): Promise<void> }>;
