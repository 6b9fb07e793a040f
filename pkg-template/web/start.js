// The wasm started in a browser, a web worker or a bundle made for one: a
// chunk of its own, imported on the first call. The wasm itself travels in
// `wasm.js` (gzipped by zopfli, base64), so no bundler has to find, copy or
// serve a .wasm file.
import * as glue from "./pulse_jobs.js";
import { base64Bytes } from "../base64.js";

/** The glue, its wasm instantiated from `wasm` when given, else from the package's own copy. */
export async function start(wasm) {
  await glue.instantiate(wasm ?? (await inflate((await import("./wasm.js")).default)));
  return glue;
}

/** The wasm, inflated with DecompressionStream, or by the package's own inflater where there is none. */
async function inflate(base64) {
  const gzipped = base64Bytes(base64);
  if (typeof DecompressionStream !== "function") return (await import("./inflate.js")).gunzip(gzipped);
  return new Response(new Blob([gzipped]).stream().pipeThrough(new DecompressionStream("gzip"))).arrayBuffer();
}
