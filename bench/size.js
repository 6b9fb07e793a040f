// What the package makes a user load, raw, gzip -9 and brotli (max quality),
// from pkg/: the files behind each entry, and a real browser bundle of
// `import { waitForJob } from "pulse-jobs"` (esbuild, --splitting), split into
// what loads with the page (the import cost) and what the first call fetches.
// Fails when the import cost passes 8 KB gzip or the browser total passes the
// budget, so neither can grow unnoticed.
//   node bench/size.js [--budget BYTES]      (make size)
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { build } from "esbuild";

const IMPORT_BUDGET = 8192;
const pkg = new URL("../pkg/", import.meta.url);
const budgetAt = process.argv.indexOf("--budget");
const budget = budgetAt > 0 ? Number(process.argv[budgetAt + 1]) : Infinity;

const entries = {
  "browser (web/index.js), with the chunks of the first call": "web/index.js",
  "Workers (edge/workerd.js)": "edge/workerd.js",
  "node (node/index.mjs)": "node/index.mjs",
};

/** The files an entry loads: itself and, transitively, what it imports or requires (the inflater only where DecompressionStream is missing). */
function loads(file, seen = new Set()) {
  if (seen.has(file)) return [...seen];
  seen.add(file);
  const text = readFileSync(new URL(file, pkg), "utf8");
  for (const [, spec] of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["'](\.{1,2}\/[^"'?]+)["'?]/g)) {
    if (!spec.endsWith("inflate.js")) loads(new URL(spec, new URL(file, pkg)).href.slice(pkg.href.length), seen);
  }
  return [...seen];
}

function measure(file, bytes = readFileSync(new URL(file, pkg))) {
  const brotli = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
  return { file, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length, brotli: brotli.length };
}

const sum = (rows, key) => rows.reduce((total, row) => total + row[key], 0);
const total = (rows) => ({ file: "total", raw: sum(rows, "raw"), gzip: sum(rows, "gzip"), brotli: sum(rows, "brotli") });

for (const [entry, file] of Object.entries(entries)) {
  console.log(entry);
  const rows = loads(file).map((f) => measure(f));
  console.table([...rows, total(rows)]);
}

/** A browser app's bundle of the package, minified and split by esbuild: its chunks, each labelled by what it holds. */
async function browserBundle() {
  const app = mkdtempSync(join(tmpdir(), "pulse-size-"));
  try {
    mkdirSync(join(app, "node_modules"));
    symlinkSync(fileURLToPath(pkg), join(app, "node_modules", "pulse-jobs"));
    const out = join(app, "dist");
    const { metafile } = await build({
      stdin: { contents: 'import { waitForJob } from "pulse-jobs";\nglobalThis.waitForJob = waitForJob;\n', resolveDir: app },
      bundle: true,
      splitting: true,
      format: "esm",
      minify: true,
      outdir: out,
      metafile: true,
      logLevel: "error",
    });
    const outputs = metafile.outputs;
    // What loads with the page: the app's chunk and what it imports statically.
    const page = new Set();
    const visit = (path) => {
      if (page.has(path)) return;
      page.add(path);
      for (const { path: next, kind } of outputs[path].imports) if (kind === "import-statement") visit(next);
    };
    visit(Object.keys(outputs).find((path) => outputs[path].entryPoint === "<stdin>"));
    return Object.entries(outputs).map(([path, output]) => {
      const inputs = Object.keys(output.inputs).map((input) => basename(input));
      return { ...measure(basename(path), readFileSync(join(app, path))), holds: inputs.join(" ") || "(esbuild's helpers)", page: page.has(path) };
    });
  } finally {
    rmSync(app, { recursive: true, force: true });
  }
}

const chunks = await browserBundle();
const page = chunks.filter((c) => c.page);
const firstCall = chunks.filter((c) => !c.page && !c.holds.includes("inflate.js"));
console.log("A browser app's esbuild bundle (--splitting --minify) of `import { waitForJob } from \"pulse-jobs\"`");
console.table(chunks.map(({ file, holds, page, raw, gzip, brotli }) => ({ file, holds, loads: page ? "with the page" : holds.includes("inflate.js") ? "without DecompressionStream" : "on first use", raw, gzip, brotli })));
const importCost = sum(page, "gzip");
const browserTotal = importCost + sum(firstCall, "gzip");
console.log(`size: import cost ${importCost} B gzip (budget ${IMPORT_BUDGET}); with the first call's chunks ${browserTotal} B gzip (budget ${budget})`);
console.log("size: the inflater chunk loads only where DecompressionStream is missing");
if (importCost > IMPORT_BUDGET || browserTotal > budget) {
  console.error("size: over budget");
  process.exit(1);
}
