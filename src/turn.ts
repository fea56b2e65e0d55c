// Yielding to the event loop between steps of a long computation (fit's batches, fitVI's steps).

/**
 * fit() and fitVI() yield when this long has passed since they last did: a turn of the event loop
 * costs microseconds, which per batch of a small model is a few percent of training.
 */
export const YIELD_MS = 16;

// One reusable channel: a macrotask that, unlike setTimeout(0), is not clamped to 1-4 ms.
let channel: { port: MessagePort; queue: (() => void)[] } | null = null;

/**
 * Resolves in a later task, so input, rendering, timers and messages all get their turn. Not
 * scheduler.yield(): Chromium runs its continuations ahead of timers and messages, so an
 * AbortSignal.timeout() or a setTimeout() would wait for the whole computation.
 */
export function nextTurn(): Promise<void> {
  const g = globalThis as { setImmediate?: (f: () => void) => void };
  if (g.setImmediate) return new Promise((resolve) => g.setImmediate!(resolve));
  if (typeof MessageChannel === "function") {
    if (!channel) {
      const c = new MessageChannel();
      const queue: (() => void)[] = [];
      c.port1.onmessage = () => queue.shift()?.();
      channel = { port: c.port2, queue };
    }
    const ch = channel;
    return new Promise((resolve) => {
      ch.queue.push(resolve);
      ch.port.postMessage(null);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}
