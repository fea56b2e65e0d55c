// A Web Worker of fit({ workers }) in a browser (src/pool.ts starts it from beside the browser
// bundle, as dist/klcore.worker.js, a module worker): the loop of src/workerloop.ts, started by the
// first message, which carries the setup. The page's Worker has no exit event, so an abrupt end
// (a test's fault) is said in a message first.

import { serve } from "./workerloop.js";
import type { WorkerSetup } from "./shards.js";

interface WorkerScope {
  onmessage: ((e: { data: unknown }) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
}
const scope = globalThis as unknown as WorkerScope;

scope.onmessage = (e) => {
  scope.onmessage = null;
  serve(e.data as WorkerSetup, {
    ready: () => scope.postMessage("ready"),
    exit: (code) => {
      scope.postMessage({ exit: code });
      scope.close();
      throw new Error(`worker exit ${code}`);
    },
  });
  scope.close();
};
