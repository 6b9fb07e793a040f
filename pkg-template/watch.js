/**
 * `watchJob` as an async iterator over the one wait loop of the wasm: `start`
 * runs that wait (`waitForJob` plus a listener and a stop signal), and this
 * turns its polls into values. Every job polled is yielded; the last is the
 * completed job (its large result downloaded), or the failed, canceled or
 * expired job followed by the `PulseError` the wait rejected with.
 * `return()` (and `break`) stops the wait and resolves once it has settled,
 * so a `cancelOnAbort` cancel has been sent by then. `state` is where the
 * wait is (the latest poll's `info.state`), for `resume` after a reload.
 *
 * An iterator dropped without `return()` stops its wait once it is garbage
 * collected, as `return()` would: nothing of the wait holds the iterator, so
 * a wait with `timeoutMs: 0` would otherwise poll (and queue jobs) forever.
 *
 * @param {(onJob: (job: object, info: { nextDelayMs: number | null }) => void, stop: AbortSignal) => Promise<object>} start
 */
export function watch(start) {
  const jobs = [];
  const wakers = [];
  const stop = new AbortController();
  let wait;
  let failure; // the error to throw once `jobs` is drained
  let ended = false;
  let state;

  const wake = () => wakers.splice(0).forEach((w) => w());
  const push = (job) => {
    jobs.push(job);
    wake();
  };
  const run = () => {
    const onJob = (job, info) => {
      state = info.state;
      if (info.nextDelayMs !== null) push(job);
    };
    wait ??= start(onJob, stop.signal).then(
      (job) => push(job),
      (error) => {
        if (stop.signal.aborted) return; // our own return(): not the caller's error
        if (error?.job !== undefined) push(error.job);
        failure = { error };
      },
    ).finally(() => {
      ended = true;
      wake();
    });
    return wait;
  };

  const iterator = {
    get state() {
      return state;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      run();
      while (!jobs.length && !ended) await new Promise((resolve) => wakers.push(resolve));
      if (jobs.length) return { value: jobs.shift(), done: false };
      if (failure) {
        const { error } = failure;
        failure = undefined;
        throw error;
      }
      return { value: undefined, done: true };
    },
    async return(value) {
      stop.abort();
      jobs.length = 0;
      failure = undefined;
      await wait;
      return { value, done: true };
    },
  };
  dropped?.register(iterator, stop);
  return iterator;
}

/** Stops the wait of each iterator collected unstopped (held: its `stop` controller). */
const dropped = typeof FinalizationRegistry === "function" ? new FinalizationRegistry((stop) => stop.abort()) : undefined;
