// Browsers, workers and bundlers. The wasm is inside `wasm.js` (gzipped,
// base64), so any bundler ships it with no asset handling or plugin, and it
// loads without top-level await (which some worker formats cannot have):
// a call made before it is ready waits for it.
import init, * as core from "./pulse_jobs.js";
import gzipped from "./wasm.js";
import { PulseError, coreError } from "../pulse_error.js";
import { publicClient } from "../client.js";

async function inflate(base64) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Response(stream).arrayBuffer();
}

let loaded = false;
const ready = inflate(gzipped)
  .then((bytes) => init({ module_or_path: bytes }))
  .then(() => {
    core.setErrorFactory(coreError);
    loaded = true;
  });
// A failed load rejects each call; it must not also be reported as unhandled.
ready.catch(() => {});

/** `core[name]` once the wasm is ready: at once when it is already. */
const whenReady = (name) => (jobId, options) => (loaded ? core[name](jobId, options) : ready.then(() => core[name](jobId, options)));

export const waitForJob = whenReady("waitForJob");
export const getJob = whenReady("getJob");
export const cancelJob = whenReady("cancelJob");
export const PulseClient = publicClient({ Core: core.PulseClient, ready, loaded: () => loaded }, PulseError);
export { PulseError };
