// Assembles pkg/ from this template and the `wasm-pack build --target web`
// output. Every entry starts the wasm on its first call, never at import:
//   web/     browsers and bundlers: the shell loads with the page; the glue
//            (start.js, pulse_jobs.js) and the wasm (wasm.js: gzipped by
//            zopfli, base64, inflated with DecompressionStream or inflate.js)
//            are chunks of their own, imported on first use
//   edge/    Workers (workerd) and Vercel/Next.js edge (edge-light): the glue
//            and pulse_jobs.wasm, which their bundlers compile to a module
//   node/    Node, Deno, Bun: one CommonJS bundle of the shell and the glue,
//            with the wasm as base64 in wasm.cjs, compiled synchronously
// Usage: node pkg-template/assemble.js <wasm-pack-out> <pkg-dir>
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { build, buildSync } from "esbuild";
import { gzippedBase64, minify } from "./compress.js";

const [wasmOut, pkg] = process.argv.slice(2);
const template = new URL(".", import.meta.url).pathname;
const read = (path) => readFileSync(path, "utf8");

const version = read(join(template, "..", "Cargo.toml")).match(/^version = "(.+)"$/m)[1];

rmSync(pkg, { recursive: true, force: true });
for (const dir of ["node", "web", "edge"]) mkdirSync(join(pkg, dir), { recursive: true });

const manifest = JSON.parse(read(join(template, "package.json")));
writeFileSync(join(pkg, "package.json"), JSON.stringify({ ...manifest, version }, null, 2) + "\n");

for (const file of ["node/index.mjs", "index.d.ts", "cli.js"]) copyFileSync(join(template, file), join(pkg, file));
// The shell, minified (the sources' comments are for this repository; index.d.ts documents the API).
const shell = ["surface.js", "pulse_error.js", "client.js", "watch.js", "batch.js", "base64.js"];
const entries = ["web/index.js", "web/start.js", "web/inflate.js", "edge/surface.js", "edge/workerd.js", "edge/edge-light.js"];
for (const file of [...shell, ...entries]) writeFileSync(join(pkg, file), minify(read(join(template, file))));
// The README's links into docs/ resolve in the package too.
const docs = readdirSync(join(template, "..", "docs")).map((name) => `docs/${name}`);
for (const file of ["README.md", "LICENSE-MIT", "LICENSE-APACHE", ...docs]) {
  mkdirSync(dirname(join(pkg, file)), { recursive: true });
  copyFileSync(join(template, "..", file), join(pkg, file));
}
writeFileSync(join(pkg, "index.d.cts"), read(join(template, "index.d.ts")));

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

let glue = read(join(wasmOut, "pulse_jobs.js"));
for (const [, from, to] of imports) glue = rename(glue, from, to);
glue = swap(glue, '"./pulse_jobs_bg.js": import0', `"${moduleName}": import0`);
for (const [from, to] of exports) glue = rename(glue, from, to, "wasm.");
// The glue's own loader (its fallback to a .wasm file beside it, which
// bundlers would look for, its fetching and its `instanceof` checks) gives
// way to `instantiate` and `instantiateSync` (Node): a `WebAssembly.Module`
// of any realm (Next.js hands over one from another, where `instanceof`
// fails) or bytes. Bundling below drops the loader's code.
glue = swap(glue, "export { initSync, __wbg_init as default };", "");
glue += `
export async function instantiate(source) {
  if (wasm !== undefined) return;
  const made = await WebAssembly.instantiate(source, __wbg_get_imports());
  __wbg_finalize_init(made.instance ?? made, made.module ?? source);
}
export function instantiateSync(source) {
  if (wasm !== undefined) return;
  const module = Object.prototype.toString.call(source) === "[object WebAssembly.Module]" ? source : new WebAssembly.Module(source);
  __wbg_finalize_init(new WebAssembly.Instance(module, __wbg_get_imports()), module);
}
`;
// The JS helpers the Rust imports (wasm-bindgen's `snippets/`) inlined, so the glue stays one file.
glue = buildSync({ stdin: { contents: glue, resolveDir: wasmOut }, bundle: true, format: "esm", write: false, logLevel: "error" }).outputFiles[0].text;
writeFileSync(join(pkg, "web", "pulse_jobs.js"), minify(glue));
// Node: the shell and the glue in one CommonJS file, the wasm left to wasm.cjs.
const glueForNode = {
  name: "glue",
  setup(node) {
    node.onResolve({ filter: /\/pulse_jobs\.js$/ }, () => ({ path: "glue", namespace: "glue" }));
    node.onLoad({ filter: /.*/, namespace: "glue" }, () => ({ contents: glue, loader: "js" }));
  },
};
await build({
  entryPoints: [join(template, "node", "index.js")],
  outfile: join(pkg, "node", "index.cjs"),
  bundle: true,
  format: "cjs",
  target: "es2020",
  external: ["./wasm.cjs"],
  plugins: [glueForNode],
  logLevel: "error",
});

const base64 = await gzippedBase64(wasm);
writeFileSync(join(pkg, "web", "wasm.js"), `// The wasm core, gzipped, base64.\nexport default "${base64}";\n`);
writeFileSync(join(pkg, "pulse_jobs.wasm"), wasm);
writeFileSync(join(pkg, "node", "wasm.cjs"), `// The wasm core, base64.\nmodule.exports = "${wasm.toString("base64")}";\n`);
console.log(`assembled ${pkg} (pulse-jobs ${version})`);
