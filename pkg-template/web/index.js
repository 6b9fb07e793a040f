// Browsers, workers and bundlers without an edge condition. What a page loads
// with `import "pulse-jobs"` is this module and the small shell it imports;
// the glue and the wasm are chunks of their own (`./start.js`, `./wasm.js`),
// imported on the first call or on `preload()`, so a bundler that splits
// fetches them only then.
import { surface } from "../surface.js";

export const { waitForJob, getJob, cancelJob, submitJob, runJob, watchJob, waitForJobs, PulseClient, PulseError, preload } = surface({
  start: (wasm) => import("./start.js").then((chunk) => chunk.start(wasm)),
  fix:
    "Cloudflare Workers and Vercel or Next.js edge code must import pulse-jobs through its workerd or edge-light export condition (wrangler and Next.js do so by default) or pass pulse-jobs/pulse_jobs.wasm, imported as a module, to preload(); a page whose Content-Security-Policy has no 'wasm-unsafe-eval' in script-src cannot run it.",
});
