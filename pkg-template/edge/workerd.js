// Cloudflare Workers: the `workerd` export condition, which wrangler resolves
// and whose bundler turns this .wasm import into a `WebAssembly.Module`.
import wasm from "../pulse_jobs.wasm";
import { edgeSurface } from "./surface.js";

export const { waitForJob, getJob, cancelJob, submitJob, runJob, watchJob, waitForJobs, PulseClient, PulseError, preload } = edgeSurface(
  wasm,
  "This is the workerd entry: its bundler must turn pulse_jobs.wasm into a WebAssembly.Module, as wrangler does.",
);
