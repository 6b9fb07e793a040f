// Prints what a browser would load of the floor crate, measured as
// bench/size.js measures the package: the wasm gzipped by zopfli and base64
// (as pkg/web/wasm.js carries it), the glue minified, each then gzip -9.
//   node bench/floor/measure.js <wasm-pack out dir>
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import zopfli from "@gfx/zopfli";
import { transformSync } from "esbuild";

const out = process.argv[2];
const wasm = readFileSync(join(out, "pulse_jobs_bg.wasm"));
const embedded = Buffer.from(await zopfli.gzipAsync(wasm, { numiterations: 15 })).toString("base64");
const glue = transformSync(readFileSync(join(out, "pulse_jobs.js"), "utf8"), { minify: true, format: "esm", target: "es2022" }).code;
const gzip = (text) => gzipSync(Buffer.from(text), { level: 9 }).length;
const [w, g] = [gzip(embedded), gzip(glue)];
console.log(`floor: wasm ${wasm.length} B raw, ${w} B as shipped; glue ${g} B; total ${w + g} B gzip`);
