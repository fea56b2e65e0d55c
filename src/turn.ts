// Yielding to the event loop between steps of a long computation (fit's batches, fitVI's steps).

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
