/**
 * The public `PulseClient`: the wasm core's client kept in a private field,
 * so that a freed client rejects its calls with a `PulseError` instead of
 * throwing from the glue, and a second `free()` does nothing.
 *
 * @param {new (options?: object) => any} Core the wasm-bindgen class
 * @param {typeof import("./pulse_error.js").PulseError} PulseError
 */
export function publicClient(Core, PulseError) {
  const freed = () =>
    Promise.reject(new PulseError("this PulseClient was freed; create a new one", { code: "INVALID_ARGUMENT" }));

  class PulseClient {
    #core;
    constructor(options) {
      this.#core = new Core(options);
    }
    waitForJob(jobId, options) {
      return this.#core ? this.#core.waitForJob(jobId, options) : freed();
    }
    getJob(jobId, options) {
      return this.#core ? this.#core.getJob(jobId, options) : freed();
    }
    cancelJob(jobId, options) {
      return this.#core ? this.#core.cancelJob(jobId, options) : freed();
    }
    /** Releases the client's wasm memory now rather than at garbage collection. */
    free() {
      const core = this.#core;
      this.#core = undefined;
      core?.free();
    }
  }
  if (Symbol.dispose) PulseClient.prototype[Symbol.dispose] = PulseClient.prototype.free;
  return PulseClient;
}
