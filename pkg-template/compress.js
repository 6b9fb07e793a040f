// How what a browser loads is made small, shared by assemble.js (the package)
// and bench/floor/measure.js (the size floor), so both are measured alike.
// A build tool: not part of the package.
import { gunzipSync } from "node:zlib";
import zopfli from "@gfx/zopfli";
import { transformSync } from "esbuild";

/** JS minified for browsers. */
export const minify = (code) => transformSync(code, { minify: true, format: "esm", target: "es2022" }).code;

/** The wasm gzipped by zopfli, as base64: a gzip any inflater reads, 6%
 * smaller than zlib's level 9 (3.2 KB of what a browser downloads), for 2 s
 * of build time. */
export async function gzippedBase64(wasm) {
  const gzipped = Buffer.from(await zopfli.gzipAsync(wasm, { numiterations: 15 }));
  if (!gunzipSync(gzipped).equals(wasm)) throw new Error("compress: zopfli's gzip does not inflate to the wasm");
  return gzipped.toString("base64");
}
