// Browsers, workers and bundlers: fetch and instantiate the wasm beside this
// file (bundlers see the `new URL(..., import.meta.url)` and ship the asset).
import init, { setErrorFactory, PulseClient as Core } from "./pulse_jobs.js";
import { PulseError, coreError } from "../pulse_error.js";
import { publicClient } from "../client.js";

await init({ module_or_path: new URL("./pulse_jobs_bg.wasm", import.meta.url) });
setErrorFactory(coreError);

export { waitForJob, getJob, cancelJob } from "./pulse_jobs.js";
export const PulseClient = publicClient(Core, PulseError);
export { PulseError };
