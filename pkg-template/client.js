/**
 * The public `PulseClient`: the wasm core's client kept in a private field,
 * so that a freed client rejects its calls with a `PulseError` instead of
 * throwing from the glue, and a second `free()` does nothing.
 *
 * Before the wasm is ready (in browsers and on the edge, until the first
 * call), the core client is made when it is: its options are read and
 * checked then, and a bad one rejects each call instead of throwing from the
 * constructor.
 *
 * @param {object} parts
 * @param {(options?: object) => any} parts.newCore the wasm-bindgen client, or a promise of it while the wasm starts
 * @param {typeof import("./pulse_error.js").PulseError} parts.PulseError
 * @param {typeof import("./watch.js").watch} parts.watch
 * @param {typeof import("./batch.js").settleAll} parts.settleAll
 */
export function publicClient({ newCore, PulseError, watch, settleAll }) {
  const freed = () =>
    Promise.reject(new PulseError("this PulseClient was freed; create a new one", { code: "INVALID_ARGUMENT" }));

  class PulseClient {
    /** The core client, a promise of it while the wasm loads, or undefined once freed. */
    #core;
    constructor(options) {
      this.#core = newCore(options);
      if (this.#core instanceof Promise) this.#core.catch(() => {}); // reported by each call instead
    }
    /** The core's `method`: `start` (calls numbered as in bindings.rs, `Op::of`) or `waitForJobs`. */
    #call(method, ...args) {
      const core = this.#core;
      if (!core) return freed();
      if (!(core instanceof Promise)) return core[method](...args);
      return core.then((made) => (this.#core ? made[method](...args) : freed()));
    }
    waitForJob(jobId, options) {
      return this.#call("start", 0, jobId, options);
    }
    getJob(jobId, options) {
      return this.#call("start", 1, jobId, options);
    }
    cancelJob(jobId, options) {
      return this.#call("start", 2, jobId, options);
    }
    submitJob(body, options) {
      return this.#call("start", 3, body, options);
    }
    runJob(body, options) {
      return this.#call("start", 4, body, options);
    }
    waitForJobs(jobIds, options) {
      return settleAll((ids, o) => this.#call("waitForJobs", ids, o), jobIds, options, PulseError);
    }
    watchJob(jobId, options) {
      return watch((onJob, stop) => this.#call("start", 5, jobId, options, onJob, stop));
    }
    /** Releases the client's wasm memory now rather than at garbage collection. */
    free() {
      const core = this.#core;
      this.#core = undefined;
      if (core instanceof Promise) core.then((made) => made.free(), () => {});
      else core?.free();
    }
  }
  if (Symbol.dispose) PulseClient.prototype[Symbol.dispose] = PulseClient.prototype.free;
  return PulseClient;
}
