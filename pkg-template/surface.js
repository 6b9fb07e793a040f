// The package's public functions, the same behind every entry: an entry only
// says how its runtime starts the wasm. Nothing runs at import (edge runtimes
// forbid I/O, timers and compiling at module scope): the wasm starts on the
// first call, or on `preload()`, and calls made meanwhile wait for it.
import { PulseError, coreError } from "./pulse_error.js";
import { publicClient } from "./client.js";
import { watch } from "./watch.js";
import { callLocal, settleAll } from "./batch.js";

/**
 * @param {object} entry
 * @param {(wasm?: unknown) => object | Promise<object>} entry.start the glue's exports, its wasm instantiated (synchronously where the runtime allows); `wasm` is what a host passed to `preload`
 * @param {string} entry.fix what to do when the runtime refuses the wasm
 */
export function surface({ start, fix }) {
  let core;
  let starting;
  /** Each call's own error for a start that failed: the platform's error is its cause. */
  const unavailable = (error) =>
    new PulseError(`pulse-jobs could not start its WebAssembly core (${reason(error)}). ${fix}`, { code: "WASM_UNAVAILABLE", cause: error });
  const ready = (made) => {
    made.setErrorFactory(coreError);
    return (core = made);
  };

  /** The glue's exports, or a promise of them. A failed start is forgotten, so that a later call tries again. */
  function load(wasm) {
    if (core) return core;
    if (!starting) {
      let made;
      try {
        made = start(wasm);
      } catch (error) {
        return Promise.reject(unavailable(error));
      }
      if (!(made instanceof Promise)) return ready(made);
      starting = made.then(ready, (error) => {
        starting = undefined;
        throw error;
      });
    }
    return starting.catch((error) => {
      throw unavailable(error);
    });
  }

  /** `use(glue)` at once when the wasm runs, else once it does. */
  const withGlue = (use) => {
    const made = load();
    return made instanceof Promise ? made.then(use) : use(made);
  };
  /** A call of the glue's `start`, numbered as in `Op::of` (bindings.rs). */
  const late =
    (op) =>
    (...args) =>
      withGlue((glue) => glue.start(op, ...args));
  const watchWait = late(5);
  const LocalClient = (options) => withGlue((glue) => new glue.PulseClient(options));

  return {
    waitForJob: late(0),
    getJob: late(1),
    cancelJob: late(2),
    submitJob: late(3),
    runJob: late(4),
    watchJob: (jobId, options) => watch((onJob, stop) => watchWait(jobId, options, onJob, stop)),
    waitForJobs: callLocal(LocalClient, PulseError),
    PulseClient: publicClient({ newCore: LocalClient, PulseError, watch, settleAll }),
    PulseError,
    /** Starts the wasm now (from `wasm`, a `WebAssembly.Module` or its bytes, when given); rejects WASM_UNAVAILABLE. */
    preload: async (wasm) => {
      await load(wasm);
    },
  };
}

/** What the platform's error says, in one line. */
function reason(error) {
  try {
    return String(error instanceof Error ? `${error.name}: ${error.message}` : error).split("\n")[0];
  } catch {
    return "an error that cannot be printed";
  }
}
