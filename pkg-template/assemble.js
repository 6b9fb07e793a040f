// Assembles pkg/ from this template and the two wasm-pack outputs:
//   node/  <- `wasm-pack build --target nodejs` (CommonJS, loads the wasm synchronously)
//   web/   <- `wasm-pack build --target web` (ES module, instantiated by web/index.js)
// Usage: node pkg-template/assemble.js <nodejs-out> <web-out> <pkg-dir>
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { transformSync } from "esbuild";

const [nodeOut, webOut, pkg] = process.argv.slice(2);
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
copyFileSync(join(template, "..", "README.md"), join(pkg, "README.md"));
// CommonJS twins of the ES-module sources, so each exists once in the repository.
writeFileSync(join(pkg, "index.d.cts"), read(join(template, "index.d.ts")));
const cjsTwin = (file, names) =>
  writeFileSync(
    join(pkg, file.replace(/\.js$/, ".cjs")),
    `"use strict";\n${read(join(template, file)).replace(/^export (class|function) /gm, "$1 ")}\nmodule.exports = { ${names.join(", ")} };\n`,
  );
cjsTwin("pulse_error.js", ["PulseError", "coreError"]);
cjsTwin("client.js", ["publicClient"]);

copyFileSync(join(nodeOut, "pulse_jobs.js"), join(pkg, "node", "pulse_jobs.cjs"));
copyFileSync(join(nodeOut, "pulse_jobs_bg.wasm"), join(pkg, "node", "pulse_jobs_bg.wasm"));
// Every page downloads the browser glue: minified, it is about 1 KB smaller gzipped.
const webGlue = transformSync(read(join(webOut, "pulse_jobs.js")), { minify: true, format: "esm", target: "es2020" });
writeFileSync(join(pkg, "web", "pulse_jobs.js"), webGlue.code);
copyFileSync(join(webOut, "pulse_jobs_bg.wasm"), join(pkg, "web", "pulse_jobs_bg.wasm"));
console.log(`assembled ${pkg} (pulse-jobs ${version})`);
