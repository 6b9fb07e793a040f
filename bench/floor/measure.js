// Prints what a browser would load of the floor crate, made small as the
// package is (pkg-template/compress.js) and measured as bench/size.js
// measures the package: gzip -9 of the embedded wasm and of the glue.
//   node bench/floor/measure.js <wasm-pack out dir>
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { gzippedBase64, minify } from "../../pkg-template/compress.js";

const out = process.argv[2];
const wasm = readFileSync(join(out, "pulse_jobs_bg.wasm"));
const gzip = (text) => gzipSync(Buffer.from(text), { level: 9 }).length;
const [w, g] = [gzip(await gzippedBase64(wasm)), gzip(minify(readFileSync(join(out, "pulse_jobs.js"), "utf8")))];
console.log(`floor: wasm ${wasm.length} B raw, ${w} B as shipped; glue ${g} B; total ${w + g} B gzip`);
