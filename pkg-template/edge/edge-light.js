// Vercel and Next.js edge code: the `edge-light` export condition, which
// Next.js resolves and whose bundler turns this `?module` import into a
// `WebAssembly.Module`.
import wasm from "../pulse_jobs.wasm?module";
import { edgeSurface } from "./surface.js";

export const { waitForJob, getJob, cancelJob, submitJob, runJob, watchJob, waitForJobs, PulseClient, PulseError, preload } = edgeSurface(
  wasm,
  "This is the edge-light entry: its bundler must turn pulse_jobs.wasm?module into a WebAssembly.Module, as Next.js and Vercel do.",
);
