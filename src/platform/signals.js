// The callers' abort signals, watched for the driver: however many calls
// share one signal, it gets a single `abort` listener (Node warns from eleven
// on), removed when the last call watching it stops. Plumbing only: what an
// abort does is the engine's decision.

/** Each watched signal's waiters and listener; weak, so a forgotten signal is not kept alive. */
const watched = new WeakMap();

/**
 * Calls `onAbort(key)` once when `signal` fires `abort`, unless the returned
 * function (stop watching) is called first. Throws what the signal's
 * `addEventListener` throws.
 */
export function watchSignal(signal, onAbort, key) {
  let entry = watched.get(signal);
  if (entry === undefined) {
    const waiters = new Set();
    const listener = () => {
      for (const waiter of [...waiters]) {
        // A waiter stopped by an earlier one's abort is not run.
        const onAbort = waiters.has(waiter) ? waiter.onAbort : undefined;
        waiter.onAbort = undefined;
        onAbort?.(waiter.key);
      }
    };
    signal.addEventListener("abort", listener);
    entry = { waiters, listener };
    watched.set(signal, entry);
  }
  const waiter = { onAbort, key };
  entry.waiters.add(waiter);
  return () => {
    entry.waiters.delete(waiter);
    if (entry.waiters.size > 0 || watched.get(signal) !== entry) return;
    watched.delete(signal);
    try {
      signal.removeEventListener("abort", entry.listener);
    } catch {
      // The caller's own code threw: the listener is left, and does nothing.
    }
  };
}
