// Browsers, workers and bundlers. The wasm is inside `wasm.js` (gzipped,
// base64), so any bundler ships it with no asset handling or plugin, and it
// loads without top-level await (which some worker formats cannot have):
// a call made before it is ready waits for it.
import init, * as core from "./pulse_jobs.js";
import gzipped from "./wasm.js";
import { PulseError, coreError } from "../pulse_error.js";
import { publicClient } from "../client.js";
import { watch } from "../watch.js";
import { callLocal, settleAll } from "../batch.js";

async function inflate(base64) {
  // A loop, not Uint8Array.from with a mapper: 1.5 ms instead of 8 for the wasm.
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i += 1) bytes[i] = text.charCodeAt(i);
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

/** `call(...args)` once the wasm is ready: at once when it is already. */
const whenReady =
  (call) =>
  (...args) =>
    loaded ? call(...args) : ready.then(() => call(...args));

export const waitForJob = whenReady(core.waitForJob);
export const getJob = whenReady(core.getJob);
export const cancelJob = whenReady(core.cancelJob);
export const submitJob = whenReady(core.submitJob);
export const runJob = whenReady(core.runJob);
const watchWait = whenReady(core.watchJob);
export const watchJob = (jobId, options) => watch((onJob, stop) => watchWait(jobId, options, onJob, stop));
export const waitForJobs = whenReady(callLocal(core.PulseClient, PulseError));
export const PulseClient = publicClient({ Core: core.PulseClient, ready, loaded: () => loaded, PulseError, watch, settleAll });
export { PulseError };
