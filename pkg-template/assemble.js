// Assembles pkg/ from this template and the `wasm-pack build --target web`
// output. The wasm travels inside the package's JS, so that no bundler, server
// bundle or runtime has to find, copy or read a .wasm file:
//   web/wasm.js    the wasm gzipped, base64 (browsers inflate it with DecompressionStream)
//   node/wasm.cjs  the wasm as is, base64 (decoded with atob, compiled synchronously)
// One glue serves both: minified ES module for browsers, CommonJS for Node.
// Usage: node pkg-template/assemble.js <wasm-pack-out> <pkg-dir>
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { transformSync } from "esbuild";

const [wasmOut, pkg] = process.argv.slice(2);
const template = new URL(".", import.meta.url).pathname;
const read = (path) => readFileSync(path, "utf8");

const version = read(join(template, "..", "Cargo.toml")).match(/^version = "(.+)"$/m)[1];

rmSync(pkg, { recursive: true, force: true });
mkdirSync(join(pkg, "node"), { recursive: true });
mkdirSync(join(pkg, "web"), { recursive: true });

const manifest = JSON.parse(read(join(template, "package.json")));
writeFileSync(join(pkg, "package.json"), JSON.stringify({ ...manifest, version }, null, 2) + "\n");

for (const file of ["node/index.cjs", "node/index.mjs", "web/index.js", "pulse_error.js", "client.js", "index.d.ts"]) {
  copyFileSync(join(template, file), join(pkg, file));
}
for (const file of ["README.md", "LICENSE-MIT", "LICENSE-APACHE"]) copyFileSync(join(template, "..", file), join(pkg, file));
// CommonJS twins of the ES-module sources, so each exists once in the repository.
writeFileSync(join(pkg, "index.d.cts"), read(join(template, "index.d.ts")));
const cjsTwin = (file, names) =>
  writeFileSync(
    join(pkg, file.replace(/\.js$/, ".cjs")),
    `"use strict";\n${read(join(template, file)).replace(/^export (class|function) /gm, "$1 ")}\nmodule.exports = { ${names.join(", ")} };\n`,
  );
cjsTwin("pulse_error.js", ["PulseError", "coreError"]);
cjsTwin("client.js", ["publicClient"]);

// The glue's fallback to a .wasm file beside it: bundlers would look for that
// file (and fail the build), and the entries always pass the bytes.
const fallback = "module_or_path = new URL('pulse_jobs_bg.wasm', import.meta.url);";
const glue = read(join(wasmOut, "pulse_jobs.js"));
if (glue.split(fallback).length !== 2) throw new Error(`assemble: the glue's wasm URL fallback changed; update assemble.js`);
const ownGlue = glue.replace(fallback, 'throw new Error("pulse-jobs: the wasm bytes are passed in");');
// Every page downloads the browser glue: minified, it is about 1 KB smaller gzipped.
const web = transformSync(ownGlue, { minify: true, format: "esm", target: "es2020" });
writeFileSync(join(pkg, "web", "pulse_jobs.js"), web.code);
const node = transformSync(ownGlue, { format: "cjs", target: "es2020", logLevel: "error" });
writeFileSync(join(pkg, "node", "pulse_jobs.cjs"), node.code);

const wasm = readFileSync(join(wasmOut, "pulse_jobs_bg.wasm"));
const gzipped = gzipSync(wasm, { level: 9 }).toString("base64");
writeFileSync(join(pkg, "web", "wasm.js"), `// The wasm core, gzipped, base64.\nexport default "${gzipped}";\n`);
writeFileSync(join(pkg, "node", "wasm.cjs"), `// The wasm core, base64.\nmodule.exports = "${wasm.toString("base64")}";\n`);
console.log(`assembled ${pkg} (pulse-jobs ${version})`);
