// What the edge entries share: runtimes that forbid compiling wasm from bytes
// get it from their bundler as a compiled `WebAssembly.Module`, which is
// instantiated on the first call (no work at module scope, where Workers
// forbid I/O and timers).
import * as glue from "../web/pulse_jobs.js";
import { surface } from "../surface.js";

/** The package's functions over `wasm`, a module the entry's bundler compiled; `fix` says which bundler that is. */
export const edgeSurface = (wasm, fix) =>
  surface({
    async start(given) {
      await glue.instantiate(given ?? wasm);
      return glue;
    },
    fix,
  });
