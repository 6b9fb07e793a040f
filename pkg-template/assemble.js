// Assembles pkg/ from this template and the `wasm-pack build --target web`
// output. The wasm travels inside the package's JS, so that no bundler, server
// bundle or runtime has to find, copy or read a .wasm file:
//   web/wasm.js    the wasm gzipped by zopfli, base64 (browsers inflate it with DecompressionStream)
//   node/wasm.cjs  the wasm as is, base64 (decoded with atob, compiled synchronously)
// One glue serves both: minified ES module for browsers, CommonJS for Node.
// Usage: node pkg-template/assemble.js <wasm-pack-out> <pkg-dir>
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { buildSync, transformSync } from "esbuild";
import { gzippedBase64, minify } from "./compress.js";

const [wasmOut, pkg] = process.argv.slice(2);
const template = new URL(".", import.meta.url).pathname;
const read = (path) => readFileSync(path, "utf8");

const version = read(join(template, "..", "Cargo.toml")).match(/^version = "(.+)"$/m)[1];

rmSync(pkg, { recursive: true, force: true });
mkdirSync(join(pkg, "node"), { recursive: true });
mkdirSync(join(pkg, "web"), { recursive: true });

const manifest = JSON.parse(read(join(template, "package.json")));
writeFileSync(join(pkg, "package.json"), JSON.stringify({ ...manifest, version }, null, 2) + "\n");

for (const file of ["node/index.cjs", "node/index.mjs", "index.d.ts", "cli.js"]) copyFileSync(join(template, file), join(pkg, file));
// What a browser loads is minified (the sources' comments are for this repository; index.d.ts documents the API).
for (const file of ["web/index.js", "pulse_error.js", "client.js", "watch.js", "batch.js"]) writeFileSync(join(pkg, file), minify(read(join(template, file))));
for (const file of ["README.md", "LICENSE-MIT", "LICENSE-APACHE", "docs/contract.md", "docs/decisions.md"]) {
  mkdirSync(dirname(join(pkg, file)), { recursive: true });
  copyFileSync(join(template, "..", file), join(pkg, file));
}
// CommonJS twins of the ES-module sources, so each exists once in the repository.
writeFileSync(join(pkg, "index.d.cts"), read(join(template, "index.d.ts")));
const cjsTwin = (file, names) =>
  writeFileSync(
    join(pkg, file.replace(/\.js$/, ".cjs")),
    `"use strict";\n${read(join(template, file)).replace(/^export (class|function|async function) /gm, "$1 ")}\nmodule.exports = { ${names.join(", ")} };\n`,
  );
cjsTwin("pulse_error.js", ["PulseError", "coreError"]);
cjsTwin("client.js", ["publicClient"]);
cjsTwin("watch.js", ["watch"]);
cjsTwin("batch.js", ["settleAll", "callLocal"]);

// The wasm's import and export names (wasm-bindgen's are long, with hashes:
// 5.4 KB of the wasm, and again in the glue) shortened by wasm-opt, and the
// glue rewritten to match.
const features = read(join(template, "..", "Cargo.toml")).match(/--enable-[a-z-]+/g);
const work = mkdtempSync(join(tmpdir(), "pulse-assemble-"));
const minified = join(work, "min.wasm");
const wasmOpt = join(template, "..", "node_modules", ".bin", "wasm-opt");
const mapping = execFileSync(wasmOpt, [join(wasmOut, "pulse_jobs_bg.wasm"), "--minify-imports-and-exports-and-modules", ...features, "-o", minified], { encoding: "utf8" });
const { imports, exports } = JSON.parse(mapping.slice(mapping.indexOf("{")));
const wasm = readFileSync(minified);
rmSync(work, { recursive: true, force: true });
const [moduleName] = new Set(WebAssembly.Module.imports(new WebAssembly.Module(wasm)).map((i) => i.module));

/** `text` with its one `from` replaced by `to`; fails unless there is exactly one. */
function swap(text, from, to) {
  if (text.split(from).length !== 2) throw new Error(`assemble: the glue changed (${from}); update assemble.js`);
  return text.replace(from, () => to);
}

/** `text` with every whole-word `prefix + from` replaced by `prefix + to`. (A name
 * the glue lacks stays as it is: the wasm exports a few that the glue never uses.) */
function rename(text, from, to, prefix = "") {
  const pattern = new RegExp(`${prefix.replace(".", "\\.")}\\b${from.replace(/\$/g, "\\$")}\\b`, "g");
  return text.replace(pattern, () => `${prefix}${to}`);
}

// The glue's fallback to a .wasm file beside it: bundlers would look for that
// file (and fail the build), and the entries always pass the bytes.
let glue = read(join(wasmOut, "pulse_jobs.js"));
glue = swap(glue, "module_or_path = new URL('pulse_jobs_bg.wasm', import.meta.url);", 'throw new Error("pulse-jobs: the wasm bytes are passed in");');
for (const [, from, to] of imports) glue = rename(glue, from, to);
glue = swap(glue, '"./pulse_jobs_bg.js": import0', `"${moduleName}": import0`);
for (const [from, to] of exports) glue = rename(glue, from, to, "wasm.");
// The JS helpers the Rust imports (wasm-bindgen's `snippets/`) inlined, so the glue stays one file.
glue = buildSync({ stdin: { contents: glue, resolveDir: wasmOut }, bundle: true, format: "esm", write: false, logLevel: "error" }).outputFiles[0].text;
writeFileSync(join(pkg, "web", "pulse_jobs.js"), minify(glue));
const node = transformSync(glue, { format: "cjs", target: "es2020", logLevel: "error" });
writeFileSync(join(pkg, "node", "pulse_jobs.cjs"), node.code);

const base64 = await gzippedBase64(wasm);
writeFileSync(join(pkg, "web", "wasm.js"), `// The wasm core, gzipped, base64.\nexport default "${base64}";\n`);
writeFileSync(join(pkg, "node", "wasm.cjs"), `// The wasm core, base64.\nmodule.exports = "${wasm.toString("base64")}";\n`);
console.log(`assembled ${pkg} (pulse-jobs ${version})`);
