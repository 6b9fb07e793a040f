// What each entry of the package makes a user load, raw, gzip -9 and brotli
// (max quality), from pkg/. Fails when the browser entry's gzip total passes
// the budget, so the bytes every page downloads cannot grow unnoticed.
//   node bench/size.js [--budget BYTES]      (make size)
import { readFileSync } from "node:fs";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const pkg = new URL("../pkg/", import.meta.url);
const budgetAt = process.argv.indexOf("--budget");
const budget = budgetAt > 0 ? Number(process.argv[budgetAt + 1]) : Infinity;

const entries = {
  "browser (web/index.js)": "web/index.js",
  "node import (node/index.mjs)": "node/index.mjs",
  "node require (node/index.cjs)": "node/index.cjs",
};

/** The files an entry loads: itself and, transitively, what it imports or requires. */
function loads(file, seen = new Set()) {
  if (seen.has(file)) return [...seen];
  seen.add(file);
  const text = readFileSync(new URL(file, pkg), "utf8");
  for (const [, spec] of text.matchAll(/(?:\bfrom\s*|\bimport\s*|\brequire\s*\(\s*)["'](\.{1,2}\/[^"']+)["']/g)) {
    loads(new URL(spec, new URL(file, pkg)).href.slice(pkg.href.length), seen);
  }
  return [...seen];
}

function measure(file) {
  const bytes = readFileSync(new URL(file, pkg));
  const brotli = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
  return { file, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length, brotli: brotli.length };
}

const sum = (rows, key) => rows.reduce((total, row) => total + row[key], 0);
let browserGzip = 0;
for (const [entry, file] of Object.entries(entries)) {
  const rows = loads(file).map(measure);
  const total = { file: "total", raw: sum(rows, "raw"), gzip: sum(rows, "gzip"), brotli: sum(rows, "brotli") };
  if (entry.startsWith("browser")) browserGzip = total.gzip;
  console.log(entry);
  console.table([...rows, total]);
}

if (browserGzip > budget) {
  console.error(`size: the browser entry is ${browserGzip} B gzip, over the budget of ${budget} B`);
  process.exit(1);
}
console.log(`size: the browser entry is ${browserGzip} B gzip${Number.isFinite(budget) ? `, within the budget of ${budget} B` : ""}`);
