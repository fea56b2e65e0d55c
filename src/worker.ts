// A worker thread of fit({ workers }) in Node (src/pool.ts starts it from beside its bundle, as
// dist/worker.js): the loop of src/workerloop.ts, started with worker_threads' workerData.

import { serve } from "./workerloop.js";
import type { WorkerSetup } from "./shards.js";

// Node's module by a name esbuild leaves alone (as src/pool.ts does): no @types/node in the build.
const WORKER_THREADS: string = "node:worker_threads";
const { parentPort, workerData } = (await import(WORKER_THREADS)) as {
  parentPort: { postMessage(message: unknown): void; close(): void };
  workerData: unknown;
};

serve(workerData as WorkerSetup, {
  ready: () => parentPort.postMessage("ready"),
  exit: (code) => (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(code),
});
parentPort.close();
