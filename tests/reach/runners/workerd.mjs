// Runs the bundle `wrangler deploy --dry-run --outdir dist` made in workerd,
// through Miniflare, with the app's wrangler.json settings; prints the
// summary of one request as a REACH line.
//   node workerd.mjs <app dir> <api> <nonce>
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Miniflare } from "miniflare";

const [dir, api, nonce] = process.argv.slice(2);
const config = JSON.parse(readFileSync(join(dir, "wrangler.json"), "utf8"));
const worker = new Miniflare({
  rootPath: join(dir, "dist"),
  scriptPath: join(dir, "dist", config.main),
  modules: true,
  modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
  compatibilityDate: config.compatibility_date,
  compatibilityFlags: config.compatibility_flags ?? [],
});
try {
  const answer = await worker.dispatchFetch(`http://worker.test/?${new URLSearchParams({ api, nonce })}`);
  console.log(`REACH ${await answer.text()}`);
} finally {
  await worker.dispose();
}
