// Node, Deno, Bun, server bundles, require(): assemble.js bundles this module,
// the shell and the glue into node/index.cjs, one CommonJS file, so that
// `import` and `require` share one instance and one PulseError class. The
// wasm is in `wasm.cjs` (base64), decoded and compiled synchronously on the
// first call: nothing happens at import, nothing reads a file, and a bundle
// runs wherever it is copied.
import * as glue from "../web/pulse_jobs.js";
import { surface } from "../surface.js";
import { base64Bytes } from "../base64.js";

export const { waitForJob, getJob, cancelJob, submitJob, runJob, watchJob, waitForJobs, PulseClient, PulseError, preload } = surface({
  start(wasm) {
    glue.instantiateSync(wasm ?? base64Bytes(require("./wasm.cjs")));
    return glue;
  },
  fix: "It needs a JavaScript engine with WebAssembly (Node without --jitless, for one).",
});
